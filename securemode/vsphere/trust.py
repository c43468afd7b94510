"""TLS contexts built from the site's trust: a pinned SHA-256 certificate fingerprint, or a CA file.

Python's ``ssl`` has no verify callback, so pinning checks the peer certificate right after the
handshake in :meth:`PinnedContext.wrap_socket`, which every HTTPS connection pyVmomi and
``http.client`` open passes through. A mismatch closes the socket and raises: fail closed.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from pathlib import Path
from typing import Any

from securemode.site import Trust


class PinMismatch(ssl.SSLError):
    """The peer presented a certificate other than the pinned one."""


def normalise_fingerprint(text: str) -> str:
    """``AB:CD:…`` or ``abcd…`` → 64 lower-case hex digits."""
    return text.replace(":", "").strip().lower()


def colon_fingerprint(hex64: str) -> str:
    raw = normalise_fingerprint(hex64).upper()
    return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))


class PinnedContext(ssl.SSLContext):
    """A client context that accepts exactly one certificate: the one whose SHA-256 is pinned."""

    pin_sha256: str = ""

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        tls = super().wrap_socket(sock, *args, **kwargs)
        if not tls.getpeercert(binary_form=True):
            tls.do_handshake()
        der = tls.getpeercert(binary_form=True) or b""
        seen = hashlib.sha256(der).hexdigest()
        if not self.pin_sha256 or seen != self.pin_sha256:
            tls.close()
            raise PinMismatch(
                f"the server's certificate (SHA-256 {colon_fingerprint(seen)}) is not the pinned one"
            )
        return tls


def pinned_context(fingerprint_sha256: str) -> PinnedContext:
    """Context for a pinned certificate: chain and name are not checked, the exact certificate is."""
    ctx = PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # replaced by the exact-certificate check in wrap_socket
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.pin_sha256 = normalise_fingerprint(fingerprint_sha256)
    return ctx


def ca_context(ca_file: Path) -> ssl.SSLContext:
    """Context that verifies the chain against ``ca_file`` and the host name (or IP) in the certificate."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def context_for(trust: Trust, resolve_path: Any = Path) -> ssl.SSLContext:
    """The context the site's trust asks for; ``resolve_path`` maps a site-relative path to a real one."""
    if trust.fingerprint_sha256:
        return pinned_context(trust.fingerprint_sha256)
    if trust.ca_file:
        return ca_context(Path(resolve_path(trust.ca_file)))
    raise ValueError("the site's trust names neither a CA file nor a fingerprint")
