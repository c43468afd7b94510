"""Reading an OVA without unpacking it: the descriptor, its manifest, and the files it references.

Checked locally before vSphere sees anything: a plain tar whose first member is the ``.ovf``
(OVF 1.0 §5.3), safe member names, an XML OVF envelope with exactly one VirtualSystem, every
referenced file present with its declared size, manifest digests that match, and VMDK disks that
start with a sparse-extent header. Problems raise :class:`OvaError` with one message each.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import xml.etree.ElementTree as ET  # the OVA is the operator's own file; DTDs are refused below
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

OVF_NS = "http://schemas.dmtf.org/ovf/envelope/1"
RASD_NS = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
VMDK_MAGIC = b"KDMV"
_MF_LINE = re.compile(r"^(SHA1|SHA256|SHA512)\((?P<name>[^)]+)\)\s*=\s*(?P<digest>[0-9A-Fa-f]+)$")
_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
RESOURCE_DISK = "17"


class OvaError(ValueError):
    """The OVA cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class OvaFile:
    """A file the descriptor references: its name in the tar and its size."""

    name: str
    size: int


@dataclass(frozen=True)
class OvaPackage:
    """What the engine needs from an OVA to import it."""

    path: Path
    descriptor: str
    files: tuple[OvaFile, ...]
    networks: tuple[str, ...]
    disks: int
    vm_name: str
    capacity_bytes: int = 0  # the disks' provisioned size: what a thick import takes on the datastore


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for m in members:
        pure = PurePosixPath(m.name)
        if pure.is_absolute() or ".." in pure.parts or not m.isfile():
            raise OvaError(f"member '{m.name}' is not a plain file with a relative name")
    if not members or not members[0].name.endswith(".ovf"):
        raise OvaError("the first member is not the .ovf descriptor")
    return members


def _parse_descriptor(text: str) -> ET.Element:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise OvaError("the descriptor declares a DTD or entities, which OVF never needs")
    try:
        root = ET.fromstring(text)  # noqa: S314  # DTDs refused above
    except ET.ParseError as exc:
        raise OvaError(f"the descriptor is not well-formed XML ({exc})") from None
    if root.tag != _q(OVF_NS, "Envelope"):
        raise OvaError(f"the descriptor's root is {root.tag}, not an OVF 1.x Envelope")
    return root


def _referenced(root: ET.Element) -> list[OvaFile]:
    files = []
    for f in root.iter(_q(OVF_NS, "File")):
        href = f.get(_q(OVF_NS, "href"), "")
        size = f.get(_q(OVF_NS, "size"))
        if not href or "://" in href:
            raise OvaError(f"file reference '{href}' is not a file inside the OVA")
        files.append(OvaFile(name=href, size=int(size) if size and size.isdigit() else -1))
    return files


def _check_manifest(tar: tarfile.TarFile, manifest: tarfile.TarInfo) -> None:
    text = _read(tar, manifest).decode("utf-8", "replace")
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        match = _MF_LINE.match(line)
        if not match:
            raise OvaError(f"manifest line '{line[:60]}' is not 'ALG(file)= digest'")
        digest = hashlib.new(_HASHES[match.group(1)])
        with _open_member(tar, match.group("name")) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != match.group("digest").lower():
            raise OvaError(f"{match.group('name')} does not match its {match.group(1)} digest in the manifest")


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(member)
    if stream is None:
        raise OvaError(f"cannot read member '{member.name}'")
    return stream.read()


@contextmanager
def _open_member(tar: tarfile.TarFile, name: str) -> Iterator[IO[bytes]]:
    try:
        stream = tar.extractfile(name)
    except KeyError:
        raise OvaError(f"'{name}' is referenced but not in the OVA") from None
    if stream is None:
        raise OvaError(f"'{name}' is not a regular file")
    with stream:
        yield stream


_UNITS = re.compile(r"^byte\s*(?:\*\s*(\d+)\s*\^\s*(\d+))?$")


def _capacity(root: ET.Element) -> int:
    """Sum of the descriptor's Disk capacities in bytes (units ``byte * 2^N``; plain bytes by default)."""
    total = 0
    for disk in root.iter(_q(OVF_NS, "Disk")):
        raw = disk.get(_q(OVF_NS, "capacity"), "0")
        units = _UNITS.match((disk.get(_q(OVF_NS, "capacityAllocationUnits")) or "byte").strip())
        if not raw.isdigit() or units is None:
            raise OvaError(f"disk capacity '{raw}' in units "
                           f"'{disk.get(_q(OVF_NS, 'capacityAllocationUnits'))}' is not understood")
        scale = int(units.group(1)) ** int(units.group(2)) if units.group(1) else 1
        total += int(raw) * scale
    return total


def read_ova(path: Path) -> OvaPackage:
    """Open and check an OVA; raise :class:`OvaError` when it is not usable."""
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115  # closed below
    except (OSError, tarfile.TarError) as exc:
        raise OvaError(f"cannot open it as an uncompressed tar archive ({exc})") from None
    with tar:
        members = _members(tar)
        by_name = {m.name: m for m in members}
        try:
            text = _read(tar, members[0]).decode("utf-8")
        except UnicodeDecodeError:
            raise OvaError("the descriptor is not UTF-8 text") from None
        root = _parse_descriptor(text)
        systems = list(root.iter(_q(OVF_NS, "VirtualSystem")))
        if len(systems) != 1:
            raise OvaError(f"the descriptor has {len(systems)} VirtualSystem elements; a node OVA has exactly one")
        files = _referenced(root)
        for f in files:
            member = by_name.get(f.name)
            if member is None:
                raise OvaError(f"'{f.name}' is referenced but not in the OVA")
            if f.size >= 0 and member.size != f.size:
                raise OvaError(f"'{f.name}' is {member.size} bytes; the descriptor says {f.size}")
            if f.name.lower().endswith(".vmdk"):
                with _open_member(tar, f.name) as stream:
                    if stream.read(4) != VMDK_MAGIC:
                        raise OvaError(f"'{f.name}' is not a sparse (stream-optimized) VMDK")
        manifests = [m for m in members if m.name.endswith(".mf")]
        if manifests:
            _check_manifest(tar, manifests[0])
    disks = sum(1 for item in root.iter(_q(RASD_NS, "ResourceType")) if (item.text or "").strip() == RESOURCE_DISK)
    networks = tuple(n.get(_q(OVF_NS, "name"), "") for n in root.iter(_q(OVF_NS, "Network")))
    name = systems[0].get(_q(OVF_NS, "id"), "")
    return OvaPackage(path=path, descriptor=text, files=tuple(files), networks=networks, disks=disks, vm_name=name,
                      capacity_bytes=_capacity(root))


@contextmanager
def open_file(package: OvaPackage, name: str) -> Iterator[IO[bytes]]:
    """A readable stream of one file inside the OVA (for upload)."""
    with tarfile.open(package.path, "r:") as tar, _open_member(tar, name) as stream:
        yield stream
