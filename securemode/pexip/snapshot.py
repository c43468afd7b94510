"""The security-wizard settings a node reports in a fresh diagnostic snapshot (``security.json``).

``security.json`` is the file Pexip's log tools read; its keys map to the rows of the guide's
security-wizard table. The snapshot is taken over the Management API on a verified connection.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from securemode.console.answers import ROW_BY_KEY
from securemode.https.browser import Browser, WebTarget
from securemode.https.login import basic_auth
from securemode.redact import register_secret
from securemode.results import JsonValue

SNAPSHOT_PATH = "/api/admin/command/v1/platform/snapshot/"
# security.json keys (pexip-log-tools) per row of the guide's table; session limits: null = unlimited.
SECURITY_JSON_KEYS: dict[str, str] = {
    "fips": "fips_mode",
    "disable-admin": "disable_admin_account",
    "icmpv6-redirects": "icmpv6_redirects",
    "drop-closed-ports": "drop_not_reject",
    "icmpv6-multicast-echo": "icmpv6_echo_requests",
    "ipv6-dad": "ipv6_dad_transmits",
    "sip-udp-port": "sip_udp_port",
    "sip-tcp-port": "sip_tcp_port",
    "sip-tls-port": "sip_tls_port",
    "web-sessions": "web_global_session_limit",
    "web-sessions-per-user": "web_per_user_session_limit",
    "host-headers": "enable_web_allowed_hosts_validation",
    "tls10": "enable_tls1",
    "anon-dh": "enable_sip_tls_adh",
}


class SnapshotRefused(RuntimeError):
    """The node refused this administrator a diagnostic snapshot (401/403)."""


def read_security_json(web: WebTarget, username: str, password: str | None) -> dict[str, Any] | None:
    """``security.json`` from a fresh diagnostic snapshot, or None when the snapshot has none; a target
    presenting a client certificate logs in by it (no password is sent)."""
    headers = {"Content-Type": "application/json"}
    if web.client_certificate is None:
        if password is None:
            raise ValueError(f"a snapshot as {username} needs a password or a client certificate")
        register_secret(password)
        headers["Authorization"] = basic_auth(username, password)
    reply = Browser(web).request("POST", SNAPSHOT_PATH, b"{}", headers)
    if reply.status in (401, 403):
        raise SnapshotRefused(f"snapshot request answered HTTP {reply.status}")
    if reply.status != 200:
        raise RuntimeError(f"snapshot request answered HTTP {reply.status}")
    with tarfile.open(fileobj=io.BytesIO(reply.body), mode="r:*") as tar:
        for member in tar.getmembers():
            if member.isfile() and Path(member.name).name == "security.json":
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = json.loads(handle.read())
                if not isinstance(data, dict):
                    raise RuntimeError("security.json in the snapshot is not an object")
                return data
    return None


def json_value(key: str, data: Mapping[str, Any]) -> JsonValue:
    """The value of wizard row ``key`` in a node's ``security.json`` (null session limits = 0)."""
    value = data.get(SECURITY_JSON_KEYS[key])
    if key in ("web-sessions", "web-sessions-per-user") and value is None:
        return 0
    if ROW_BY_KEY[key].kind == "bool":
        return bool(value)
    return int(value) if value is not None else None
