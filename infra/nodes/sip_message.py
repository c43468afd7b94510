"""Minimal SIP (RFC 3261) message parsing and the node's answer to a request.

The twin only needs what a signalling probe exercises: OPTIONS gets ``200 OK`` with the mandatory
headers echoed (Via in order, From, To with a tag added, Call-ID, CSeq); other requests get
``501 Not Implemented``; ACK gets no answer; garbage gets ``400 Bad Request``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

# RFC 3261 §7.3.3 compact header forms
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length", "m": "contact"}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, SUBSCRIBE, NOTIFY, REFER, UPDATE"
SERVER = "Pexip Infinity Conferencing Platform (securemode lab twin)"
MAX_HEADER_BYTES = 64 * 1024


class SipParseError(ValueError):
    """The bytes are not a SIP request."""


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case full name, value), in order
    body: bytes = b""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None


def split_head(buffer: bytes) -> tuple[bytes, bytes] | None:
    """Split off the header block (up to the blank line); None while it is incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEADER_BYTES:
            raise SipParseError("header block too large")
        return None
    return buffer[:end], buffer[end + 4 :]


def parse_request(head: bytes, body: bytes = b"") -> SipRequest:
    """Parse a request line and headers (folded lines joined, compact names expanded)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("not UTF-8") from exc
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
        raise SipParseError(f"bad request line {lines[0][:80]!r}")
    request = SipRequest(method=parts[0].upper(), uri=parts[1], body=body)
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and request.headers:
            name, value = request.headers[-1]
            request.headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise SipParseError(f"bad header line {line[:80]!r}")
        key = name.strip().lower()
        request.headers.append((COMPACT.get(key, key), value.strip()))
    return request


def content_length(request: SipRequest) -> int:
    raw = request.first("content-length")
    if raw is None:
        return 0
    if not raw.isdigit():
        raise SipParseError("bad Content-Length")
    return int(raw)


def response_for(request: SipRequest, peer_host: str) -> bytes | None:
    """The node's answer to ``request`` from ``peer_host`` (None for ACK)."""
    if request.method == "ACK":
        return None
    missing = [h for h in ("via", "from", "to", "call-id", "cseq") if request.first(h) is None]
    if missing:
        return _response(request, 400, "Bad Request", peer_host, extra=[("Warning", f'399 - "missing {missing}"')])
    if request.method == "OPTIONS":
        return _response(
            request,
            200,
            "OK",
            peer_host,
            extra=[("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "timer")],
        )
    return _response(request, 501, "Not Implemented", peer_host)


def bad_request(reason: str) -> bytes:
    return f'SIP/2.0 400 Bad Request\r\nWarning: 399 - "{reason}"\r\nContent-Length: 0\r\n\r\n'.encode()


def _response(
    request: SipRequest, code: int, reason: str, peer_host: str, extra: list[tuple[str, str]] | None = None
) -> bytes:
    lines = [f"SIP/2.0 {code} {reason}"]
    for index, via in enumerate(request.all("via")):
        lines.append(f"Via: {_with_received(via, peer_host) if index == 0 else via}")
    for name in ("from", "call-id", "cseq"):
        value = request.first(name)
        if value is not None:
            lines.append(f"{_canonical(name)}: {value}")
    to = request.first("to")
    if to is not None:
        lines.append(f"To: {to if ';tag=' in to.lower() else f'{to};tag={secrets.token_hex(4)}'}")
    lines.append(f"Server: {SERVER}")
    lines.extend(f"{k}: {v}" for k, v in extra or [])
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _with_received(via: str, peer_host: str) -> str:
    """RFC 3261 §18.2.1: add received= when the sent-by host differs from the packet's source."""
    sent_by = via.split(None, 1)[1].split(";", 1)[0] if " " in via else ""
    if sent_by.startswith("["):
        host = sent_by[1 : sent_by.find("]")]
    elif sent_by.count(":") == 1:
        host = sent_by.split(":", 1)[0]
    else:
        host = sent_by
    if host == peer_host or "received=" in via:
        return via
    return f"{via};received={peer_host}"


def _canonical(name: str) -> str:
    return {"call-id": "Call-ID", "cseq": "CSeq"}.get(name, name.title())
