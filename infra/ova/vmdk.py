"""Stream-optimized VMDK (the disk format OVAs carry), written and read per VMware's Virtual Disk Format 5.0.

Layout written: sparse header (sector 0, gdOffset = GD_AT_END), embedded descriptor, one
deflate-compressed grain with its LBA header, then a grain-table marker and table, a grain-directory
marker and directory, a footer marker and footer (the header again, now with the real gdOffset),
and the end-of-stream marker. Every other grain is absent, i.e. reads as zeros.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SECTOR = 512
MAGIC = 0x564D444B  # "KDMV"
VERSION = 3
FLAG_NEWLINE_TEST = 1
FLAG_COMPRESSED = 1 << 16
FLAG_MARKERS = 1 << 17
GD_AT_END = 0xFFFFFFFFFFFFFFFF
GRAIN_SECTORS = 128  # 64 KiB grains
GTES_PER_GT = 512
COMPRESS_DEFLATE = 1
MARKER_EOS, MARKER_GT, MARKER_GD, MARKER_FOOTER = 0, 1, 2, 3
_HEADER = struct.Struct("<IIIQQQQIQQQBccccH433x")


@dataclass(frozen=True)
class SparseHeader:
    capacity: int  # sectors
    descriptor_offset: int
    descriptor_size: int
    gd_offset: int
    overhead: int
    flags: int = FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS
    grain_size: int = GRAIN_SECTORS
    gtes_per_gt: int = GTES_PER_GT

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, VERSION, self.flags, self.capacity, self.grain_size, self.descriptor_offset,
                            self.descriptor_size, self.gtes_per_gt, 0, self.gd_offset, self.overhead, 0,
                            b"\n", b" ", b"\r", b"\n", COMPRESS_DEFLATE)

    @classmethod
    def unpack(cls, data: bytes) -> SparseHeader:
        (magic, version, flags, capacity, grain, d_off, d_size, gtes, _rgd, gd, overhead, _unclean,
         nl, _nonl, _d1, _d2, compress) = _HEADER.unpack(data[:SECTOR])
        if magic != MAGIC or version != VERSION or nl != b"\n" or compress != COMPRESS_DEFLATE:
            raise ValueError("not a stream-optimized VMDK header")
        return cls(capacity=capacity, descriptor_offset=d_off, descriptor_size=d_size, gd_offset=gd,
                   overhead=overhead, flags=flags, grain_size=grain, gtes_per_gt=gtes)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % SECTOR)


def _marker(kind: int, sectors: int) -> bytes:
    return struct.pack("<QII", sectors, 0, kind).ljust(SECTOR, b"\0")


def descriptor(capacity_sectors: int, file_name: str, cid: int) -> bytes:
    cylinders = max(1, capacity_sectors // (255 * 63))
    text = (
        "# Disk DescriptorFile\nversion=1\n"
        f"CID={cid:08x}\nparentCID=ffffffff\ncreateType=\"streamOptimized\"\n\n"
        f"# Extent description\nRW {capacity_sectors} SPARSE \"{file_name}\"\n\n"
        "# The Disk Data Base\n#DDB\n\n"
        "ddb.adapterType = \"lsilogic\"\n"
        f"ddb.geometry.cylinders = \"{cylinders}\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n"
        "ddb.virtualHWVersion = \"13\"\n"
    )
    return text.encode("ascii")


def stream_optimized(capacity_bytes: int, first_grain: bytes, file_name: str, cid: int = 0x5EC0DE01) -> bytes:
    """A stream-optimized VMDK of ``capacity_bytes`` whose first grain holds ``first_grain``."""
    grain_bytes = GRAIN_SECTORS * SECTOR
    if capacity_bytes % grain_bytes or capacity_bytes <= 0:
        raise ValueError(f"capacity must be a positive multiple of {grain_bytes} bytes")
    if len(first_grain) > grain_bytes:
        raise ValueError("first grain data is larger than a grain")
    capacity = capacity_bytes // SECTOR
    desc = _pad(descriptor(capacity, file_name, cid))
    desc_sectors = len(desc) // SECTOR
    overhead = 1 + desc_sectors
    out = bytearray()
    out += SparseHeader(capacity, 1, desc_sectors, GD_AT_END, overhead).pack()
    out += desc
    grain_sector = len(out) // SECTOR
    payload = zlib.compress(first_grain.ljust(grain_bytes, b"\0"), 9)
    out += _pad(struct.pack("<QI", 0, len(payload)) + payload)
    gt_sectors = GTES_PER_GT * 4 // SECTOR
    table = bytearray(GTES_PER_GT * 4)
    struct.pack_into("<I", table, 0, grain_sector)
    out += _marker(MARKER_GT, gt_sectors)
    gt_sector = len(out) // SECTOR
    out += table
    grains = capacity // GRAIN_SECTORS
    gd_entries = -(-grains // GTES_PER_GT)
    directory = bytearray(_pad(b"\0" * (gd_entries * 4)))
    struct.pack_into("<I", directory, 0, gt_sector)
    out += _marker(MARKER_GD, len(directory) // SECTOR)
    gd_sector = len(out) // SECTOR
    out += directory
    out += _marker(MARKER_FOOTER, 1)
    out += SparseHeader(capacity, 1, desc_sectors, gd_sector, overhead).pack()
    out += _marker(MARKER_EOS, 0)
    return bytes(out)


def read_grain0(data: bytes) -> tuple[SparseHeader, bytes]:
    """Parse a stream-optimized VMDK through its footer, GD and GT; return the footer and grain 0's data."""
    head = SparseHeader.unpack(data)
    if head.gd_offset != GD_AT_END:
        raise ValueError("stream-optimized header must defer the grain directory to the footer")
    footer = SparseHeader.unpack(data[-2 * SECTOR : -SECTOR])
    if data[-SECTOR:] != _marker(MARKER_EOS, 0):
        raise ValueError("missing end-of-stream marker")
    gt_sector = struct.unpack_from("<I", data, footer.gd_offset * SECTOR)[0]
    grain_sector = struct.unpack_from("<I", data, gt_sector * SECTOR)[0]
    if grain_sector == 0:
        return footer, b"\0" * (head.grain_size * SECTOR)
    lba, size = struct.unpack_from("<QI", data, grain_sector * SECTOR)
    if lba != 0:
        raise ValueError(f"grain 0 marker names LBA {lba}")
    start = grain_sector * SECTOR + 12
    return footer, zlib.decompress(data[start : start + size])
