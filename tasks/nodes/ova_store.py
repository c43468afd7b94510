"""Where a Conferencing Node's generated OVA waits between its registration and its import.

The Management Node returns a node-specific OVA only in its answer to the ``worker_vm`` create (it carries
the node's single-use bootstrap configuration), so the engine keeps it in a private folder of the site's
state (``<state>/pexip/<site>/node-ova/``, 0700; each file 0600) until the VM is imported, and checks it
with :func:`read_ova` (manifest digests included) before vSphere sees it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from securemode.pexip.state import safe_name, site_dir
from securemode.problems import InputError, Problem
from securemode.site_loader import LoadedSite
from securemode.vsphere.ova import OvaError, OvaPackage, read_ova

FOLDER = "node-ova"


def ova_folder(loaded: LoadedSite) -> Path:
    path = site_dir(loaded) / FOLDER
    path.mkdir(exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def ova_path(loaded: LoadedSite, node_name: str) -> Path:
    return ova_folder(loaded) / f"{safe_name(node_name)}.ova"


def store_ova(loaded: LoadedSite, node_name: str, data: bytes) -> Path:
    """Write the OVA (0600) in one rename, so a killed engine leaves the whole file or none."""
    target = ova_path(loaded, node_name)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def discard_ova(loaded: LoadedSite, node_name: str) -> None:
    ova_path(loaded, node_name).unlink(missing_ok=True)


def stored_ova(loaded: LoadedSite, node_name: str) -> Path | None:
    path = ova_path(loaded, node_name)
    return path if path.is_file() else None


def checked_ova(loaded: LoadedSite, node_name: str, field: str) -> OvaPackage:
    """The stored OVA, checked; a damaged one is discarded (the next run gets a fresh one) and refused."""
    path = ova_path(loaded, node_name)
    try:
        return read_ova(path)
    except OvaError as exc:
        discard_ova(loaded, node_name)
        raise InputError(
            str(loaded.path),
            [
                Problem(
                    field=field,
                    message=f"the OVA the Management Node generated for {node_name} is not usable: {exc}",
                    fix="run again: the damaged file was deleted, and the next run re-creates the node's registration "
                    "to get a fresh OVA (check the path to the Management Node if it happens again)",
                )
            ],
        ) from None
