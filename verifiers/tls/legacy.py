"""Proof that this client can really offer TLS 1.0/1.1 before a legacy refusal is trusted.

OpenSSL 3 needs ``@SECLEVEL=0`` in the client cipher string, else it sends nothing and a strict
server would look the same as a broken probe. So, once per process, the legacy probe completes those
versions against a local server that allows them; until it has, a legacy refusal is ERROR.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Result, Status, probe
from securemode.verifiers.tls.contexts import TlsVersion, set_versions, version_context
from securemode.verifiers.tls.handshake import DEFAULT_TIMEOUT_S, handshake


def legacy_probe_self_test(timeout: float = DEFAULT_TIMEOUT_S) -> Result:
    """Prove the legacy probes can complete TLS 1.0 and 1.1 against a local server that allows them.

    Without this, a probe that silently never offered TLS 1.0 (OpenSSL 3's default security level)
    would report every server as "TLS 1.0 refused".
    """
    expected = "TLSv1 and TLSv1.1 negotiated"
    with probe("selftest.tls.legacy_probe", "localhost", expected=expected) as p, _permissive_server() as local:
        observed: dict[str, JsonValue] = {}
        for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_1):
            hs = handshake(Endpoint(*local, timeout_s=timeout), version_context(version))
            p.log(f"{version.value}: completed={hs.completed} protocol={hs.protocol} failure={hs.failure}")
            observed[version.value] = hs.protocol or hs.failure
        ok = all(observed.get(v.value) == v.value for v in (TlsVersion.TLS1_0, TlsVersion.TLS1_1))
        p.check(ok, observed, "the local client cannot negotiate legacy TLS")
    return p.result


_legacy_proven = threading.Event()  # set once the self-test passed in this process (a failure is retried)


def legacy_capability() -> str | None:
    """None when the legacy probe is proven to work here, else why not."""
    if _legacy_proven.is_set():
        return None
    result = legacy_probe_self_test()
    if result.status is Status.PASS:
        _legacy_proven.set()
        return None
    return f"{result.message} {result.observed}"


@contextlib.contextmanager
def _permissive_server() -> Iterator[tuple[str, int]]:
    """A local TLS server that accepts TLS 1.0-1.3 with every suite (SECLEVEL 0), with a throwaway cert."""
    cert_pem, key_pem = _throwaway_certificate()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    set_versions(ctx, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_3)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with tempfile.TemporaryDirectory(prefix="sm-tls-selftest-") as tmp:
        (Path(tmp) / "c.pem").write_bytes(cert_pem)
        (Path(tmp) / "k.pem").write_bytes(key_pem)
        ctx.load_cert_chain(Path(tmp) / "c.pem", Path(tmp) / "k.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(OSError), conn:
                conn.settimeout(DEFAULT_TIMEOUT_S)
                with ctx.wrap_socket(conn, server_side=True):
                    pass

    thread = threading.Thread(target=serve, name="tls-selftest", daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _throwaway_certificate() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls-selftest.invalid")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
