"""The Management Node's remote syslog: audit events go to every syslog server attached to it with
``audit_log`` on, over the server's transport (UDP, TCP, or TLS verified against the node's trusted
CA certificates, as a real node checks them), framed per RFC 5424 (RFC 6587 octet counting on TCP/TLS).

GUESS: Pexip's exact APP-NAME, facility and message text are not published; the twin sends
facility authpriv (10), severity notice (5), APP-NAME ``pexip-audit``, MSGID = the audit action.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger("securemode.infra.lab.syslog")

PRI = 10 * 8 + 5  # authpriv.notice
APP_NAME = "pexip-audit"
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_TIMEOUT_S = 2.0


def format_event(event: Mapping[str, Any], hostname: str) -> bytes:
    """One audit event as an RFC 5424 message (no framing)."""
    stamp = dt.datetime.fromtimestamp(float(event["ts"]), dt.UTC).isoformat(timespec="microseconds")
    stamp = stamp.replace("+00:00", "Z")
    msgid = _NOT_PRINTABLE.sub("_", str(event["action"]))[:32] or "-"
    text = f"user={event['user']} action={event['action']} seq={event['seq']} {event['detail']}"
    return f"<{PRI}>1 {stamp} {hostname[:255]} {APP_NAME} - {msgid} - {text}".encode()


def audit_targets(servers: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, str]]:
    """(address, port, transport) of the attached servers that take audit events."""
    return [(str(s["address"]), int(s.get("port") or 514), str(s.get("transport") or "udp"))
            for s in servers if s.get("audit_log")]


def _tls_context(trusted_ca_pem: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=trusted_ca_pem or None)
    if not trusted_ca_pem:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no trusted CAs uploaded: nothing verifies
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False  # servers are configured by address; the chain must still verify
    return ctx


def send(target: tuple[str, int, str], messages: Sequence[bytes], trusted_ca_pem: str) -> None:
    """Deliver ``messages`` to one server; raises OSError/ssl.SSLError when it cannot."""
    address, port, transport = target
    if transport == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for msg in messages:
                sock.sendto(msg, (address, port))
        return
    framed = b"".join(str(len(m)).encode() + b" " + m for m in messages)
    with socket.create_connection((address, port), timeout=_TIMEOUT_S) as raw:
        if transport == "tls":
            with _tls_context(trusted_ca_pem).wrap_socket(raw) as tls:
                tls.sendall(framed)
                tls.unwrap()
        else:
            raw.sendall(framed)


class AuditForwarder:
    """Remembers the last forwarded audit sequence number; :meth:`forward` sends what is new."""

    def __init__(self, hostname: str, start_after: int) -> None:
        self.hostname = hostname
        self.last_seq = start_after
        self.failures: dict[str, str] = {}

    def forward(self, events: Sequence[Mapping[str, Any]], servers: Sequence[Mapping[str, Any]], trusted: str) -> int:
        """Send ``events`` to every audit target; returns how many messages were delivered."""
        if not events:
            return 0
        messages = [format_event(e, self.hostname) for e in events]
        self.last_seq = max(int(e["seq"]) for e in events)
        delivered = 0
        for target in audit_targets(servers):
            label = f"{target[0]}:{target[1]}/{target[2]}"
            try:
                send(target, messages, trusted)
            except (OSError, ssl.SSLError) as exc:
                if self.failures.get(label) != type(exc).__name__:
                    log.warning("syslog %s: delivery failed (%s)", label, type(exc).__name__)
                self.failures[label] = type(exc).__name__
                continue
            self.failures.pop(label, None)
            delivered += len(messages)
        return delivered
