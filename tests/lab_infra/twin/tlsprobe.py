"""Raw TLS probes (version, cipher, client certificate) against the twin's listener."""

from __future__ import annotations

import socket
import ssl
import warnings


def handshake(
    port: int,
    version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    cert: tuple[str, str] | None = None,
    cafile: str | None = None,
) -> tuple[str, str] | None:
    """(protocol, cipher) when the server accepts, None when it refuses. Sends a request and reads, so a
    TLS 1.3 client-certificate rejection (after the client's handshake completes) is seen too."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if version is not None:
            ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    if cert:
        ctx.load_cert_chain(*cert)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(b"GET /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if not tls.recv(64):
                return None
            cipher = tls.cipher()
            return (str(tls.version()), cipher[0] if cipher else "")
    except (ssl.SSLError, ConnectionError, TimeoutError):
        return None


def served_certificate(port: int) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der
