"""A careful HTTPS client for a node's web interface: every request verified before a byte is sent.

Each request opens its own TLS connection, checked against the given trust (a CA file, or the pinned
SHA-256 fingerprint of the node's certificate before the PKI stage): a mismatch raises
:class:`UntrustedPeer`, so no request — and so no password — ever reaches an unverified peer. Tasks use
it to reach the node; verifiers use it to probe the node the way a browser would, each on its own
connection.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

from securemode.site import Trust

DEFAULT_TIMEOUT_S = 5.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})  # transient: retried, then the caller's ERROR
RETRY_BACKOFF_S = (0.2, 0.5, 1.0, 2.0)


class UntrustedPeer(Exception):
    """The node's certificate does not match the trust we were given; nothing was sent."""


@dataclass(frozen=True)
class WebTarget:
    """Where a node's web interface is and how to trust it; ``host_name`` is what goes in Host."""

    host: str
    trust: Trust
    port: int = 443
    host_name: str | None = None
    server_name: str | None = None  # name the certificate must hold when trusting a CA (default: host)
    timeout_s: float = DEFAULT_TIMEOUT_S
    client_certificate: tuple[str, str] | None = None  # (certificate chain file, key file) presented to the node

    @property
    def authority(self) -> str:
        name = self.host_name or self.host
        shown = f"[{name}]" if ":" in name else name
        return shown if self.port == 443 else f"{shown}:{self.port}"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in self.headers:
            if key.lower() != "set-cookie":
                continue
            try:
                jar: SimpleCookie = SimpleCookie(value)
            except CookieError:
                continue
            out.update({name: morsel.value for name, morsel in jar.items()})
        return out

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _fingerprint(value: str) -> str:
    return value.replace(":", "").lower()


class _VerifiedConnection(http.client.HTTPSConnection):
    """HTTPS whose peer is checked right after the handshake, before a byte of the request is sent."""

    def __init__(self, target: WebTarget) -> None:
        trust = target.trust
        if trust.ca_file is not None:
            context = ssl.create_default_context(cafile=trust.ca_file)
            context.check_hostname = True
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the pinned fingerprint below is the trust decision
        if target.client_certificate is not None:
            context.load_cert_chain(*target.client_certificate)
        super().__init__(target.host, target.port, timeout=target.timeout_s, context=context)
        self._tls = context
        self._server_name = target.server_name or target.host
        self._pin = _fingerprint(trust.fingerprint_sha256) if trust.fingerprint_sha256 else None

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)
        except BaseException:
            raw.close()
            raise
        if self._pin is not None:
            der = sock.getpeercert(binary_form=True) or b""
            if hashlib.sha256(der).hexdigest() != self._pin:
                sock.close()
                raise UntrustedPeer("the node's certificate does not match the pinned SHA-256 fingerprint")
        self.sock = sock


@dataclass
class Browser:
    """A cookie jar and one verified connection per request, like a careful browser."""

    target: WebTarget
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        host: str | None = None,
    ) -> Reply:
        """One request; a 5xx/429 answer or a timeout/reset is retried (bounded, with backoff). The last
        answer is returned (still 5xx: the caller's ERROR), or the last connection error raised."""
        for delay in (*RETRY_BACKOFF_S, None):
            try:
                reply = self._once(method, path, body, headers, host)
            except (TimeoutError, ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected):
                if delay is None:
                    raise
            else:
                if reply.status not in RETRY_STATUSES or delay is None:
                    return reply
            time.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises on its last pass

    def _once(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None, host: str | None
    ) -> Reply:
        conn = _VerifiedConnection(self.target)
        all_headers = {
            "Host": host or self.target.authority,
            "User-Agent": "securemode-verifier",
            "Accept": "text/html,application/json",
            "Connection": "close",
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            reply = Reply(response.status, response.getheaders(), response.read())
        finally:
            conn.close()
        self.cookies.update({k: v for k, v in reply.cookies().items() if v})
        for gone in [k for k, v in reply.cookies().items() if not v]:
            self.cookies.pop(gone, None)
        return reply
