"""Build the stand-in OVA: a tar of the OVF descriptor (first, as OVF 1.0 requires), its SHA-256 manifest
and a stream-optimized VMDK. ``python -m securemode.infra.ova.build OUT.ova`` writes one with the defaults.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from securemode.infra.ova import ovf, vmdk

GIB = 1 << 30


@dataclass(frozen=True)
class OvaSpec:
    """What the appliance declares; the engine resizes the VM to the site's sizing after import."""

    name: str = "pexip-mgr-standin"
    cpus: int = 4
    memory_mb: int = 4096
    capacity_gib: int = 1
    network: str = "VM Network"
    payload: bytes = b"securemode lab stand-in for the Pexip Infinity Management Node disk\n"
    product: str = "Pexip Infinity Management Node"
    properties: tuple[tuple[str, str], ...] = ()  # OVF properties (a conferencing node's bootstrap values)


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def ova_bytes(spec: OvaSpec | None = None) -> bytes:
    """The OVA as bytes (what the Management Node twin answers a manual-ESXi worker_vm create with)."""
    spec = spec or OvaSpec()
    disk_name = f"{spec.name}-disk1.vmdk"
    disk = vmdk.stream_optimized(spec.capacity_gib * GIB, spec.payload, disk_name)
    descriptor = ovf.descriptor(spec.name, spec.cpus, spec.memory_mb, disk_name, len(disk), spec.capacity_gib,
                                spec.network, spec.product, spec.properties).encode("utf-8")
    ovf_name, mf_name = f"{spec.name}.ovf", f"{spec.name}.mf"
    manifest = "".join(f"SHA256({n})= {hashlib.sha256(d).hexdigest()}\n"
                       for n, d in ((ovf_name, descriptor), (disk_name, disk))).encode("ascii")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _member(tar, ovf_name, descriptor)
        _member(tar, mf_name, manifest)
        _member(tar, disk_name, disk)
    return buffer.getvalue()


def build_ova(path: Path, spec: OvaSpec | None = None) -> Path:
    """Write the OVA to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ova_bytes(spec))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default=OvaSpec.name)
    parser.add_argument("--cpus", type=int, default=OvaSpec.cpus)
    parser.add_argument("--memory-mb", type=int, default=OvaSpec.memory_mb)
    args = parser.parse_args()
    print(build_ova(args.out, OvaSpec(name=args.name, cpus=args.cpus, memory_mb=args.memory_mb)))


if __name__ == "__main__":
    main()
