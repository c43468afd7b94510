"""Write patched copies of govmomi 0.24.2 simulator files and the `go build -overlay` map.

Debian's files are never touched: the Go toolchain reads our copies instead. Every original
file must match the SHA-256 recorded here and every patch anchor must occur exactly once, so
a different govmomi version fails the build loudly instead of silently mis-patching.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

GOVMOMI_SIMULATOR = Path("/usr/share/gocode/src/github.com/vmware/govmomi/simulator")
EXT_DIR = Path(__file__).resolve().parent / "ext"


@dataclass(frozen=True)
class Patch:
    """One exact-text replacement; `why` is kept for the build log."""

    why: str
    old: str
    new: str


@dataclass(frozen=True)
class PatchedFile:
    """An upstream file, the hash it must have, and the patches applied to it."""

    name: str
    sha256: str
    patches: tuple[Patch, ...]


FETCH_OLD = """\
	obj := res.(*methods.RetrievePropertiesExBody).Res.Returnval.Objects[0]
	if len(obj.PropSet) == 0 {
		fault := obj.MissingSet[0].Fault
		body.Fault_ = Fault(fault.LocalizedMessage, fault.Fault)
		return body
	}
"""

FETCH_NEW = """\
	rval := res.(*methods.RetrievePropertiesExBody).Res.Returnval
	if rval == nil || len(rval.Objects) == 0 {
		body.Fault_ = Fault("", &types.ManagedObjectNotFound{Obj: req.This})
		return body
	}
	obj := rval.Objects[0]
	if len(obj.PropSet) == 0 {
		if len(obj.MissingSet) != 0 {
			fault := obj.MissingSet[0].Fault
			body.Fault_ = Fault(fault.LocalizedMessage, fault.Fault)
			return body
		}
		// securemode: an unset property is an empty answer, not a panic (upstream fix, govmomi v0.36).
		body.Res = &internal.FetchResponse{}
		return body
	}
"""

HOST_MANAGERS_OLD = """\
		{&hs.ConfigManager.NetworkSystem, NewHostNetworkSystem(&hs.HostSystem)},
		{&hs.ConfigManager.AdvancedOption, NewOptionManager(nil, esx.Setting)},
"""

HOST_MANAGERS_NEW = """\
		{&hs.ConfigManager.NetworkSystem, extNewHostNetworkSystem(&hs.HostSystem)},
		{&hs.ConfigManager.AdvancedOption, extNewHostOptionManager()},
		{&hs.ConfigManager.ServiceSystem, extNewHostServiceSystem(&hs.HostSystem)},
		{&hs.ConfigManager.DateTimeSystem, extNewHostDateTimeSystem(&hs.HostSystem)},
		{&hs.ConfigManager.HostAccessManager, extNewHostAccessManager(&hs.HostSystem)},
"""

HOST_INIT_OLD = """\
		*c.ref = &ref
	}

	return hs
}
"""

HOST_INIT_NEW = """\
		*c.ref = &ref
	}

	extInitHost(hs)

	return hs
}
"""

FILES: tuple[PatchedFile, ...] = (
    PatchedFile(
        "property_collector.go",
        "5cb6432ace55751a9da6da01b3912d23fe7cb1f4efbd163ad15b54464a02af13",
        (Patch("Fetch of an unset property must not panic", FETCH_OLD, FETCH_NEW),),
    ),
    PatchedFile(
        "host_system.go",
        "efaa61e44bba5912034da8423ba2ae6abae4d4ea044675d499f9303611e4cf5f",
        (
            Patch(
                "per-host ESXi managers (services, time, lockdown, options, network)",
                HOST_MANAGERS_OLD,
                HOST_MANAGERS_NEW,
            ),
            Patch("per-host pNICs and shared config pointers", HOST_INIT_OLD, HOST_INIT_NEW),
        ),
    ),
    PatchedFile(
        "virtual_machine.go",
        "e2378644959422dd1d02d6a2629a8b8bebda970a4674f885201dd187458616d7",
        (
            Patch(
                "ReconfigVM validates like ESXi before applying and publishes changes",
                "\t\terr := vm.configure(&req.Spec)\n\n\t\treturn nil, err\n",
                "\t\treturn nil, vm.extReconfigure(ctx, &req.Spec)\n",
            ),
            Patch(
                "extraConfig keys are replaced in place and '' deletes, as on ESXi",
                "\t\t\tvm.Config.ExtraConfig = append(vm.Config.ExtraConfig, c)\n",
                "\t\t\tvm.extSetExtraConfig(c)\n",
            ),
        ),
    ),
    PatchedFile(
        "ovf_manager.go",
        "5a8d959d1835444b77229910b89e204c9bf4c585a2e003299a041ce52f3d098e",
        (
            Patch(
                "a descriptor without a VirtualSystem is an OVF error in the result, not a panic",
                "\tds := ctx.Map.Get(req.Datastore).(*Datastore)\n\tpath := object.DatastorePath{",
                "\tif env.VirtualSystem == nil {\n"
                "\t\treturn extOvfMissingVirtualSystem()\n"
                "\t}\n\n"
                "\tds := ctx.Map.Get(req.Datastore).(*Datastore)\n\tpath := object.DatastorePath{",
            ),
        ),
    ),
    PatchedFile(
        "authorization_manager.go",
        "8d109eb3d76bf78364a00670ac358f6cbcedefe31c02b27d8907e7aeaf53ba59",
        (
            Patch(
                "SetEntityPermissions sets the principals it names and keeps every other permission",
                "\tm.permissions[req.Entity] = req.Permission\n",
                "\tm.permissions[req.Entity] = extMergePermissions(m.permissions[req.Entity], req.Entity,"
                " req.Permission)\n",
            ),
            Patch(
                "AddAuthorizationRole answers the new role's id",
                "\tm.nextID++\n\n\tbody.Res = &types.AddAuthorizationRoleResponse{}\n",
                "\tbody.Res = &types.AddAuthorizationRoleResponse{Returnval: m.nextID}\n\tm.nextID++\n",
            ),
        ),
    ),
    PatchedFile(
        "session_manager.go",
        "0be2f4cdba55a7e3f405a4fd8688644e472fe13641cc16b9495e134ac9041eab",
        (
            Patch(
                "lockdown mode refuses direct logins of users that are not exceptions",
                "\tif ctx.Session != nil {\n\t\treturn false\n\t}\n\tuser := ctx.svc.Listen.User\n",
                "\tif ctx.Session != nil {\n\t\treturn false\n\t}\n"
                "\tif !extLoginAllowed(req.UserName) {\n\t\treturn false\n\t}\n"
                "\tuser := ctx.svc.Listen.User\n",
            ),
        ),
    ),
)


class PatchError(RuntimeError):
    """The installed govmomi sources are not the ones these patches were written for."""


def apply_patches(source: str, spec: PatchedFile) -> str:
    """Return the patched text; every anchor must match exactly once."""
    for patch in spec.patches:
        count = source.count(patch.old)
        if count != 1:
            raise PatchError(f"{spec.name}: anchor for '{patch.why}' found {count} times (expected 1)")
        source = source.replace(patch.old, patch.new)
    return source


def write_overlay(src_dir: Path, ext_dir: Path, out_dir: Path) -> Path:
    """Write patched copies into out_dir and return the overlay.json path."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    replace: dict[str, str] = {}
    for spec in FILES:
        original = src_dir / spec.name
        data = original.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != spec.sha256:
            raise PatchError(
                f"{original}: sha256 {digest} differs from the govmomi 0.24.2 file ({spec.sha256});"
                " re-check every patch against the new sources before updating the hash"
            )
        patched = out_dir / spec.name
        patched.write_text(apply_patches(data.decode(), spec))
        replace[str(original)] = str(patched)
    ext_files = sorted(ext_dir.glob("zz_ext_*.go"))
    if not ext_files:
        raise PatchError(f"no extension sources in {ext_dir}")
    for ext in ext_files:
        target = src_dir / ext.name
        if target.exists():
            raise PatchError(f"{target} exists upstream; rename the extension file")
        replace[str(target)] = str(ext.resolve())
    overlay = out_dir / "overlay.json"
    overlay.write_text(json.dumps({"Replace": replace}, indent=1, sort_keys=True))
    return overlay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--src", type=Path, default=GOVMOMI_SIMULATOR)
    parser.add_argument("--ext", type=Path, default=EXT_DIR)
    args = parser.parse_args(argv)
    try:
        overlay = write_overlay(args.src, args.ext, args.out_dir)
    except (PatchError, OSError) as exc:
        print(f"patch_sources: FAILED: {exc}", file=sys.stderr)
        return 1
    print(overlay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
