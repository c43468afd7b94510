"""Whether a node's HTTPS service is up: a completed TLS handshake, which a bare TCP accept is not.

Nothing is sent after the handshake and no certificate is judged here: the answer only says that a
TLS server answers on the port (a relay or a listen backlog in front of a dead service accepts TCP
too). Trust decisions belong to :mod:`securemode.https.browser`.
"""

from __future__ import annotations

import socket
import ssl

DEFAULT_TIMEOUT_S = 5.0


def answers_tls(
    host: str, port: int, server_name: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> tuple[bool, str]:
    """(alive, why): whether a TLS handshake on ``host:port`` completes."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # liveness only: nothing is sent, no credential is at stake
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name or host) as tls,
        ):
            return True, f"TLS handshake on {host}:{port} completed ({tls.version()})"
    except (OSError, ssl.SSLError) as exc:
        return False, f"TLS handshake on {host}:{port} failed: {exc}"
