"""Datagrams that make a UDP service answer, for port scans: silence from a UDP port means "dropped" only
if a service there would have answered what was sent, so each well-known port gets a request in its own
protocol (a query, never a change), and SNMP the credential-free SNMPv3 engine discovery.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable


def _tlv(tag: int, body: bytes) -> bytes:
    """One BER element (definite short or long length)."""
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def snmpv3_discovery() -> bytes:
    """An SNMPv3 GET with empty engine id and user (RFC 3414 §4, engine discovery): any SNMP agent answers it
    with a Report, without credentials."""
    msg_id = int.from_bytes(os.urandom(2), "big")
    header = _tlv(0x30, _int(msg_id) + _int(65507) + _tlv(0x04, b"\x04") + _int(3))
    usm = _tlv(0x04, _tlv(0x30, _tlv(0x04, b"") + _int(0) + _int(0) + _tlv(0x04, b"") * 3))
    pdu = _tlv(0xA0, _int(msg_id) + _int(0) + _int(0) + _tlv(0x30, b""))
    scoped = _tlv(0x30, _tlv(0x04, b"") + _tlv(0x04, b"") + pdu)
    return _tlv(0x30, _int(3) + header + usm + scoped)


def _dns_query() -> bytes:
    """A standard query for the root's NS records."""
    return struct.pack(">HHHHHH", int.from_bytes(os.urandom(2), "big"), 0x0100, 1, 0, 0, 0) + b"\x00\x00\x02\x00\x01"


def _ntp_request() -> bytes:
    """An NTPv3 client request (mode 3)."""
    return b"\x1b" + b"\0" * 47


def _netbios_status() -> bytes:
    """A NetBIOS node status request for ``*`` (what ``nmblookup -A`` sends)."""
    name = b"\x20" + b"CK" + b"A" * 30 + b"\x00"
    return struct.pack(">HHHHHH", int.from_bytes(os.urandom(2), "big"), 0, 1, 0, 0, 0) + name + b"\x00\x21\x00\x01"


def _ssdp_search() -> bytes:
    return b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'


def _tftp_read() -> bytes:
    return b"\x00\x01securemode-probe\x00octet\x00"


_UDP_PAYLOADS: dict[int, Callable[[], bytes]] = {
    53: _dns_query,
    69: _tftp_read,
    123: _ntp_request,
    137: _netbios_status,
    161: snmpv3_discovery,
    1900: _ssdp_search,
}


def udp_payload(port: int) -> bytes:
    """A datagram the usual service on ``port`` answers (an SNMP agent on any port it is told is SNMP's);
    a single zero byte for a port without one (IKE on 500 ignores junk, but a reject still shows)."""
    return _UDP_PAYLOADS.get(port, lambda: b"\0")()
