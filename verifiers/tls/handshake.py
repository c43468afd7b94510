"""One TLS handshake over a plain socket and a memory BIO, so the probe sees exactly what went on the
wire: whether our ClientHello left, the server's alert or ServerHello, and what was negotiated."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from dataclasses import dataclass

from cryptography import x509

from securemode.endpoint import Endpoint
from securemode.results import JsonValue
from securemode.verifiers.tls import wire
from securemode.verifiers.tls.certificates import certificate_evidence

DEFAULT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Handshake:
    """What one handshake attempt observed on the wire."""

    completed: bool
    protocol: str | None = None
    cipher: str | None = None
    cert_der: bytes | None = None
    hello_sent: bool = False
    server_hello_version: str | None = None
    failure: str | None = None
    verify_error: str | None = None
    elapsed_s: float = 0.0
    alert: str | None = None  # the first TLS alert the server sent, e.g. "protocol_version(70)"
    server_bytes: int = 0  # how many bytes the server sent at all

    @property
    def server_spoke_tls(self) -> bool:
        """Whether the server answered with TLS of its own (an alert or a ServerHello)."""
        return self.alert is not None or self.server_hello_version is not None

    def evidence(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "handshake": "completed" if self.completed else "failed",
            "protocol": self.protocol,
            "cipher": self.cipher,
            "server_hello_version": self.server_hello_version,
            "elapsed_ms": round(self.elapsed_s * 1000, 1),
        }
        if self.failure:
            out["failure"] = self.failure
        if self.verify_error:
            out["verify_error"] = self.verify_error
        if self.alert:
            out["server_alert"] = self.alert
        if self.cert_der:
            out.update(certificate_evidence(x509.load_der_x509_certificate(self.cert_der)))
        return out

    @classmethod
    def from_wire(
        cls,
        sent: bytes,
        received: bytes,
        failure: str | None = None,
        *,
        protocol: str | None = None,
        cipher: str | None = None,
        cert_der: bytes | None = None,
        verify_error: str | None = None,
        elapsed_s: float = 0.0,
    ) -> Handshake:
        """The observation from recorded bytes: ``sent`` by us, ``received`` from the server, and
        ``failure`` our stack's reason to stop (None: the handshake completed)."""
        alert = wire.first_alert(received)
        if failure is not None and alert is not None:
            failure = f"{failure}; server alert {alert}"
        return cls(
            completed=failure is None,
            hello_sent=wire.has_client_hello(sent),
            server_hello_version=wire.server_hello_version(received),
            failure=failure,
            alert=alert,
            server_bytes=len(received),
            protocol=protocol,
            cipher=cipher,
            cert_der=cert_der,
            verify_error=verify_error,
            elapsed_s=elapsed_s,
        )


class TlsConnectError(OSError):
    """No TCP connection to the TLS port: nothing about TLS could be observed."""


def handshake(endpoint: Endpoint, ctx: ssl.SSLContext) -> Handshake:
    """Connect and run one TLS handshake; raise :class:`TlsConnectError` when TCP itself fails."""
    host, port, timeout = endpoint.host, endpoint.port, endpoint.timeout(DEFAULT_TIMEOUT_S)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TlsConnectError(f"no TCP connection to {host}:{port}: {exc.strerror or exc}") from None
    t0 = time.perf_counter()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=endpoint.sni)
    received = bytearray()
    sent = bytearray()
    failure: str | None = None
    verify_error: str | None = None
    try:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sent += _flush(sock, outgoing)
                chunk = sock.recv(65536)
                if not chunk:
                    incoming.write_eof()
                else:
                    received += chunk
                    incoming.write(chunk)
    except ssl.SSLCertVerificationError as exc:
        verify_error = f"{exc.verify_message} (code {exc.verify_code})"
        failure = "certificate verification failed"
    except ssl.SSLEOFError:
        failure = "server closed the connection"
    except ssl.SSLError as exc:
        failure = f"{exc.library}: {exc.reason}" if exc.reason else str(exc)
    except TimeoutError:
        failure = f"no answer within {timeout}s"
    except ConnectionResetError:
        failure = "connection reset by server"
    except OSError as exc:
        failure = f"socket error: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            sent += _flush(sock, outgoing)
        elapsed = time.perf_counter() - t0
    negotiated = tls.cipher() if failure is None else None
    result = Handshake.from_wire(
        bytes(sent),
        bytes(received),
        failure,
        protocol=tls.version() if failure is None else None,
        cipher=negotiated[0] if negotiated else None,
        cert_der=_peer_cert(tls),
        verify_error=verify_error,
        elapsed_s=elapsed,
    )
    with contextlib.suppress(OSError):
        sock.close()
    return result


def _flush(sock: socket.socket, outgoing: ssl.MemoryBIO) -> bytes:
    data = outgoing.read()
    if data:
        sock.sendall(data)
    return data


def _peer_cert(tls: ssl.SSLObject) -> bytes | None:
    with contextlib.suppress(ValueError, ssl.SSLError):
        return tls.getpeercert(binary_form=True)
    return None
