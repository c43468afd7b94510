"""TLS record bytes as they crossed the wire: which alert the server sent, which version its
ServerHello chose, whether our ClientHello left at all.

Pure functions of recorded bytes (no sockets), so the refusal judge's facts can be replayed in tests.
"""

from __future__ import annotations

from collections.abc import Iterator

ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}
WIRE_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
ALERT_RECORD, HANDSHAKE_RECORD = 21, 22
CLIENT_HELLO, SERVER_HELLO = 1, 2
SUPPORTED_VERSIONS_EXTENSION = 0x002B


def records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """TLS records (content type, payload) at the start of ``data``; stops at the first partial one."""
    offset = 0
    while offset + 5 <= len(data):
        ctype, length = data[offset], int.from_bytes(data[offset + 3 : offset + 5], "big")
        if offset + 5 + length > len(data):
            return
        yield ctype, data[offset + 5 : offset + 5 + length]
        offset += 5 + length


def has_client_hello(sent: bytes) -> bool:
    """Whether our bytes carried a ClientHello (a local failure may still send a bare alert)."""
    return any(ctype == HANDSHAKE_RECORD and payload[:1] == bytes([CLIENT_HELLO]) for ctype, payload in records(sent))


def first_alert(data: bytes) -> str | None:
    """The first alert in the server's bytes, spelled ``name(code)``, e.g. ``protocol_version(70)``."""
    for ctype, payload in records(data):
        if ctype == ALERT_RECORD and len(payload) >= 2:
            return f"{ALERTS.get(payload[1], 'alert')}({payload[1]})"
    return None


def alert_name(alert: str | None) -> str | None:
    """``protocol_version`` of ``protocol_version(70)``."""
    return alert.split("(", 1)[0] if alert else None


def server_hello_version(data: bytes) -> str | None:
    """The version a ServerHello chose (supported_versions extension first), or None if none came."""
    handshake_bytes = b"".join(p for t, p in records(data) if t == HANDSHAKE_RECORD)
    if len(handshake_bytes) < 4 + 38 or handshake_bytes[0] != SERVER_HELLO:
        return None
    body = handshake_bytes[4 : 4 + int.from_bytes(handshake_bytes[1:4], "big")]
    version = int.from_bytes(body[0:2], "big")
    pos = 2 + 32
    pos += 1 + body[pos] if pos < len(body) else 0  # session id
    pos += 3  # cipher suite + compression method
    if pos + 2 <= len(body):
        end = min(len(body), pos + 2 + int.from_bytes(body[pos : pos + 2], "big"))
        pos += 2
        while pos + 4 <= end:
            ext_type = int.from_bytes(body[pos : pos + 2], "big")
            ext_len = int.from_bytes(body[pos + 2 : pos + 4], "big")
            if ext_type == SUPPORTED_VERSIONS_EXTENSION and ext_len == 2:
                version = int.from_bytes(body[pos + 4 : pos + 6], "big")
            pos += 4 + ext_len
    return WIRE_VERSIONS.get(version, hex(version))
