"""TLS probes of a server as a client would see it: versions, anonymous DH, chain, names, validity, key.

Every probe does its own handshake (over a plain socket and a memory BIO, so it can see exactly
what went on the wire) and returns a :class:`~securemode.results.Result` whose ``observed`` carries
the negotiated protocol and cipher and the certificate's subject, SANs and notAfter.

How "refused" is told apart from "our probe could not try":

* Legacy probes (TLS 1.0/1.1) really offer the version: OpenSSL 3 needs ``@SECLEVEL=0`` in the
  client cipher string, else it sends nothing and a strict server would look the same as a broken
  probe. Before a legacy probe trusts a refusal, it proves once per process that it *can* complete
  that version against a local server that allows it (:func:`legacy_probe_self_test`); if it can't,
  the result is ERROR.
* A refusal counts only if our ClientHello left the machine. If the server's ServerHello picked the
  probed version, the server accepted it even if our own stack then gave up.
* No TCP connection (refused, unreachable, timeout) is ERROR, never a pass.
* A refusal is a PASS only when the server proves in the same probe that it is alive and speaks TLS:
  a TLS alert (``protocol_version``, ``handshake_failure`` …) or a ServerHello at another version, or,
  when it just closed the connection, a control handshake at an allowed version that completes on the
  same address right after (:func:`judge_refusal`). A relay in front of a dead server closes too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, Status, probe

DEFAULT_TIMEOUT_S = 3.0
LEGACY_CIPHERS = "ALL:@SECLEVEL=0"
ANON_ONLY_CIPHERS = "aNULL:!eNULL:@SECLEVEL=0"

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


class TlsVersion(StrEnum):
    """Protocol versions, spelled as ``ssl.SSLSocket.version()`` reports them."""

    TLS1_0 = "TLSv1"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"

    @property
    def ssl_version(self) -> ssl.TLSVersion:
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[self.value]

    @property
    def legacy(self) -> bool:
        return self in (TlsVersion.TLS1_0, TlsVersion.TLS1_1)


ClientCert = tuple[str, str]  # (certificate PEM file, key PEM file) for servers that require one


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


class TlsConnectError(OSError):
    """No TCP connection to the TLS port: nothing about TLS could be observed."""


# ---------------------------------------------------------------------------------------- contexts


def version_context(version: TlsVersion, client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client offering exactly ``version`` (with every cipher the version can use)."""
    ctx = _unverified_context(client_cert)
    _set_versions(ctx, version.ssl_version, version.ssl_version)
    if version is not TlsVersion.TLS1_3:
        ctx.set_ciphers(LEGACY_CIPHERS)
    return ctx


def anon_dh_context(client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client offering only anonymous (EC)DH suites, TLS 1.0-1.2 (TLS 1.3 has none)."""
    ctx = _unverified_context(client_cert)
    _set_versions(ctx, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers(ANON_ONLY_CIPHERS)
    return ctx


def verifying_context(ca_file: str, client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client that verifies the chain against ``ca_file`` only (names are checked separately)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=ca_file)
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx


def inspecting_context(client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A modern client (TLS >= 1.2) that accepts any certificate, to read what the server presents."""
    ctx = _unverified_context(client_cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _set_versions(ctx: ssl.SSLContext, lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> None:
    with warnings.catch_warnings():  # offering deprecated versions on purpose is what a probe is for
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = lowest
        ctx.maximum_version = highest


def _unverified_context(client_cert: ClientCert | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx


# --------------------------------------------------------------------------------------- handshake


def handshake(
    host: str,
    port: int,
    ctx: ssl.SSLContext,
    server_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Handshake:
    """Connect and run one TLS handshake; raise :class:`TlsConnectError` when TCP itself fails."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TlsConnectError(f"no TCP connection to {host}:{port}: {exc.strerror or exc}") from None
    t0 = time.perf_counter()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    sni = server_name if server_name is not None else (None if _is_ip(host) else host)
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
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
    alert = _first_alert(bytes(received))
    if failure is not None and alert is not None:
        failure = f"{failure}; server alert {alert}"
    negotiated = tls.cipher() if failure is None else None
    result = Handshake(
        completed=failure is None,
        protocol=tls.version() if failure is None else None,
        cipher=negotiated[0] if negotiated else None,
        cert_der=_peer_cert(tls),
        hello_sent=_has_client_hello(bytes(sent)),
        server_hello_version=_server_hello_version(bytes(received)),
        failure=failure,
        verify_error=verify_error,
        elapsed_s=elapsed,
        alert=alert,
        server_bytes=len(received),
    )
    with contextlib.suppress(OSError):
        sock.close()
    return result


def _flush(sock: socket.socket, outgoing: ssl.MemoryBIO) -> bytes:
    data = outgoing.read()
    if data:
        sock.sendall(data)
    return data


def _has_client_hello(sent: bytes) -> bool:
    """Whether our bytes carried a ClientHello (a local failure may still send a bare alert)."""
    return any(ctype == 22 and payload[:1] == b"\x01" for ctype, payload in _records(sent))


def _peer_cert(tls: ssl.SSLObject) -> bytes | None:
    with contextlib.suppress(ValueError, ssl.SSLError):
        return tls.getpeercert(binary_form=True)
    return None


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """TLS records (content type, payload) at the start of ``data``; stops at the first partial one."""
    offset = 0
    while offset + 5 <= len(data):
        ctype, length = data[offset], int.from_bytes(data[offset + 3 : offset + 5], "big")
        if offset + 5 + length > len(data):
            return
        yield ctype, data[offset + 5 : offset + 5 + length]
        offset += 5 + length


def _first_alert(data: bytes) -> str | None:
    for ctype, payload in _records(data):
        if ctype == 21 and len(payload) >= 2:
            return f"{ALERTS.get(payload[1], 'alert')}({payload[1]})"
    return None


def _server_hello_version(data: bytes) -> str | None:
    """The version a ServerHello chose (supported_versions extension first), or None if none came."""
    handshake_bytes = b"".join(p for t, p in _records(data) if t == 22)
    if len(handshake_bytes) < 4 + 38 or handshake_bytes[0] != 2:
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
            if ext_type == 0x002B and ext_len == 2:
                version = int.from_bytes(body[pos + 4 : pos + 6], "big")
            pos += 4 + ext_len
    return WIRE_VERSIONS.get(version, hex(version))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------- certificate evidence


def certificate_evidence(cert: x509.Certificate) -> dict[str, JsonValue]:
    """Subject, issuer, SANs, validity and fingerprint of a certificate, as JSON."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": [str(n) for n in subject_alt_names(cert)] if _has_san(cert) else [],
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def subject_alt_names(cert: x509.Certificate) -> list[str | ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """DNS names and IP addresses of the SAN extension (empty when it has none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str | ipaddress.IPv4Address | ipaddress.IPv6Address] = list(san.get_values_for_type(x509.DNSName))
    for ip in san.get_values_for_type(x509.IPAddress):
        if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
            names.append(ip)
    return names


def _has_san(cert: x509.Certificate) -> bool:
    try:
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return True


def name_matches(cert: x509.Certificate, name: str) -> tuple[bool, str]:
    """RFC 6125 match of a DNS name or IP against the SANs (CN only when there is no SAN at all)."""
    if _has_san(cert):
        sans = subject_alt_names(cert)
        if _is_ip(name):
            wanted = ipaddress.ip_address(name)
            return any(s == wanted for s in sans if not isinstance(s, str)), "SAN"
        return any(_dns_match(s, name) for s in sans if isinstance(s, str)), "SAN"
    cns = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if _is_ip(name):
        return any(_is_ip(cn) and ipaddress.ip_address(cn) == ipaddress.ip_address(name) for cn in cns), "CN"
    return any(_dns_match(cn, name) for cn in cns), "CN"


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*.") or "*" in pattern[1:]:
        return False
    head, _, rest = name.partition(".")
    return bool(head) and rest == pattern[2:] and "." in rest


# ------------------------------------------------------------------------------------------ checks


def _attempt(
    p: Probe, host: str, port: int, ctx: ssl.SSLContext, server_name: str | None, timeout: float
) -> Handshake | None:
    """One handshake for a check; sets ERROR on the probe and returns None when TCP fails."""
    try:
        hs = handshake(host, port, ctx, server_name=server_name, timeout=timeout)
    except TlsConnectError as exc:
        p.log(str(exc))
        p.error(str(exc))
        return None
    p.log(
        f"handshake {'completed' if hs.completed else 'failed'}: protocol={hs.protocol} cipher={hs.cipher} "
        f"server_hello={hs.server_hello_version} failure={hs.failure}"
    )
    return hs


def check_protocol_refused(
    control: str,
    target: str,
    host: str,
    port: int,
    version: TlsVersion,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when the server refuses a handshake that offers only ``version``."""
    with probe(control, target, expected=f"{version.value} refused") as p:
        p.log(f"offer only {version.value} to {host}:{port}")
        incapable = _legacy_capability() if version.legacy else None
        if incapable is not None:
            p.error(f"this client cannot complete {version.value} even locally: {incapable}")
        else:
            hs = _attempt(p, host, port, version_context(version, client_cert), server_name, timeout)
            if hs is not None:
                record_refusal(p, hs, version.value,
                               control_handshake(host, port, server_name, client_cert, timeout))
    return p.result


def check_protocol_accepted(
    control: str,
    target: str,
    host: str,
    port: int,
    version: TlsVersion = TlsVersion.TLS1_2,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when a handshake offering only ``version`` completes with that version."""
    with probe(control, target, expected=f"{version.value} accepted") as p:
        p.log(f"offer only {version.value} to {host}:{port}")
        hs = _attempt(p, host, port, version_context(version, client_cert), server_name, timeout)
        if hs is not None:
            judge_acceptance(p, hs, version.value)
    return p.result


def check_anon_dh_refused(
    control: str,
    target: str,
    host: str,
    port: int,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when a client offering only anonymous (EC)DH suites (ADH/AECDH) cannot connect."""
    with probe(control, target, expected="anonymous DH refused") as p:
        p.log(f"offer only aNULL suites (TLS 1.0-1.2) to {host}:{port}")
        hs = _attempt(p, host, port, anon_dh_context(client_cert), server_name, timeout)
        if hs is not None:
            record_refusal(p, hs, "anonymous DH", control_handshake(host, port, server_name, client_cert, timeout))
    return p.result


REFUSAL_ALERTS = frozenset({"protocol_version", "handshake_failure", "insufficient_security"})
Control = Callable[[], Handshake]  # a handshake at an allowed version on the same address (refusal judge)


def _alert_name(alert: str | None) -> str | None:
    return alert.split("(", 1)[0] if alert else None


def control_handshake(
    host: str, port: int, server_name: str | None, client_cert: ClientCert | None, timeout: float
) -> Control:
    """The control of a refusal probe: a modern handshake (TLS >= 1.2) on the same address."""
    return lambda: handshake(host, port, inspecting_context(client_cert), server_name=server_name, timeout=timeout)


def judge_refusal(hs: Handshake, what: str, control: Control) -> tuple[Status, str, dict[str, JsonValue]]:
    """The verdict on a handshake that offered only ``what`` (a version or a suite family).

    PASS ("refused") needs the server alive and speaking TLS within this probe: its own alert or a
    ServerHello at another version, or — when it only closed the connection — a control handshake at
    an allowed version that completes right after. Anything else is ERROR: a relay in front of a dead
    server closes connections too. ``control`` is called only when needed; an exception is ERROR.
    """
    evidence = hs.evidence()
    if hs.completed:
        return Status.FAIL, f"server accepted {what}: {hs.protocol} {hs.cipher}", evidence
    if not hs.hello_sent:
        return Status.ERROR, f"our ClientHello was never sent, so nothing was tested ({hs.failure})", evidence
    if hs.server_hello_version is not None:
        if what.startswith("TLSv") and hs.server_hello_version != what:
            return Status.PASS, f"{what} refused (ServerHello at {hs.server_hello_version})", evidence
        # a ServerHello to a hello offering only ``what``: the server took it, whatever our side did next
        return Status.FAIL, f"server accepted {what} in its ServerHello (our side then aborted: {hs.failure})", evidence
    if _alert_name(hs.alert) in REFUSAL_ALERTS:
        return Status.PASS, f"{what} refused (alert {hs.alert})", evidence
    if hs.failure and hs.failure.startswith("no answer"):
        return Status.ERROR, f"server did not answer the ClientHello: {hs.failure}", evidence
    try:
        check = control()
    except Exception as exc:
        evidence["control_handshake"] = f"{type(exc).__name__}: {exc}"
        return Status.ERROR, f"{hs.failure} without a TLS alert, and the control handshake failed: {exc}", evidence
    evidence["control_handshake"] = check.evidence()
    if check.completed:
        return (Status.PASS, f"{what} refused: {hs.failure} without an alert, while a control handshake at "
                f"{check.protocol} on the same address completed", evidence)
    return (Status.ERROR, f"{hs.failure} without a TLS alert, and a control handshake at an allowed version "
            f"failed too ({check.failure}): the server is not shown alive", evidence)


def record_refusal(p: Probe, hs: Handshake, what: str, control: Control) -> None:
    """Set the probe's verdict from :func:`judge_refusal`."""
    status, message, evidence = judge_refusal(hs, what, control)
    if "control_handshake" in evidence:
        p.log(f"control handshake: {evidence['control_handshake']}")
    if status is Status.PASS:
        p.passed(evidence, message)
    elif status is Status.FAIL:
        p.failed(evidence, message)
    else:
        p.error(message, evidence)


def judge_acceptance(p: Probe, hs: Handshake, version: str) -> None:
    """PASS when ``version`` was negotiated; FAIL only when the server answered (it is alive) and did
    not negotiate it; ERROR when nothing was tried or the server never answered."""
    if not hs.hello_sent:
        p.error(f"our ClientHello was never sent ({hs.failure})", hs.evidence())
    elif hs.completed and hs.protocol == version:
        p.passed(hs.evidence())
    elif hs.completed or hs.server_spoke_tls or hs.server_bytes:
        p.failed(hs.evidence(), f"{version} not accepted: {hs.failure or hs.protocol}")
    else:
        p.error(f"the server sent nothing before the connection ended ({hs.failure}): not shown alive",
                hs.evidence())


def service_answers_tls(host: str, port: int, server_name: str | None = None,
                        timeout: float = DEFAULT_TIMEOUT_S) -> tuple[bool, str]:
    """(alive, why): whether a TLS handshake on ``host:port`` completes — the sign that a node's HTTPS
    service is up, which a bare TCP accept (a relay, a backlog) is not."""
    try:
        hs = handshake(host, port, inspecting_context(), server_name=server_name, timeout=timeout)
    except TlsConnectError as exc:
        return False, str(exc)
    if hs.completed:
        return True, f"TLS handshake on {host}:{port} completed ({hs.protocol})"
    return False, f"TLS handshake on {host}:{port} failed: {hs.failure}"


def check_chain_trusted(
    control: str,
    target: str,
    host: str,
    port: int,
    ca_file: str,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when the presented chain verifies (signatures, validity) to the CA(s) in ``ca_file``."""
    with probe(control, target, expected=f"chain verifies to {Path(ca_file).name}") as p:
        hs = _attempt(p, host, port, verifying_context(ca_file, client_cert), server_name, timeout)
        if hs is not None:
            _judge_chain(p, hs, host, port, server_name, client_cert, timeout)
    return p.result


def _judge_chain(
    p: Probe,
    hs: Handshake,
    host: str,
    port: int,
    server_name: str | None,
    client_cert: ClientCert | None,
    timeout: float,
) -> None:
    if hs.completed:
        p.passed(hs.evidence())
    elif hs.verify_error:
        evidence = hs.evidence()
        plain = _attempt(p, host, port, inspecting_context(client_cert), server_name, timeout)
        if plain is not None and plain.cert_der:
            evidence.update(certificate_evidence(x509.load_der_x509_certificate(plain.cert_der)))
        p.failed(evidence, f"chain does not verify: {hs.verify_error}")
    else:
        p.error(f"handshake failed before the chain could be judged: {hs.failure}", hs.evidence())


def _presented_certificate(
    p: Probe, host: str, port: int, server_name: str | None, client_cert: ClientCert | None, timeout: float
) -> tuple[x509.Certificate, Handshake] | None:
    hs = _attempt(p, host, port, inspecting_context(client_cert), server_name, timeout)
    if hs is None:
        return None
    if hs.cert_der is None:
        p.error(f"no certificate was presented ({hs.failure})", hs.evidence())
        return None
    return x509.load_der_x509_certificate(hs.cert_der), hs


def check_names(
    control: str,
    target: str,
    host: str,
    port: int,
    expected_names: Sequence[str],
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when every expected name (FQDN, SIP TLS FQDN, IP) matches the presented certificate."""
    with probe(control, target, expected={"names": list(expected_names)}) as p:
        got = _presented_certificate(p, host, port, server_name, client_cert, timeout)
        if got is not None:
            cert, hs = got
            evidence = hs.evidence()
            verdicts = {name: name_matches(cert, name) for name in expected_names}
            evidence["name_matches"] = {n: ok for n, (ok, _) in verdicts.items()}
            missing = [n for n, (ok, _) in verdicts.items() if not ok]
            via_cn = [n for n, (ok, how) in verdicts.items() if ok and how == "CN"]
            if not expected_names:
                p.error("no expected names given")
            elif missing:
                p.failed(evidence, f"certificate does not cover {missing}")
            else:
                note = f"WARNING: matched via CN only (no SAN extension): {via_cn}" if via_cn else ""
                p.passed(evidence, note)
    return p.result


def check_validity(
    control: str,
    target: str,
    host: str,
    port: int,
    warn_days: int = 30,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    now: datetime | None = None,
) -> Result:
    """PASS inside the validity window (with a WARNING when it ends within ``warn_days``), else FAIL."""
    with probe(control, target, expected=f"valid now, warn within {warn_days} days") as p:
        got = _presented_certificate(p, host, port, server_name, client_cert, timeout)
        if got is not None:
            cert, hs = got
            at = now or datetime.now(UTC)
            left = cert.not_valid_after_utc - at
            evidence = hs.evidence()
            evidence["days_left"] = round(left / timedelta(days=1), 2)
            if at < cert.not_valid_before_utc:
                p.failed(evidence, f"not yet valid (notBefore {cert.not_valid_before_utc.isoformat()})")
            elif left <= timedelta(0):
                p.failed(evidence, f"expired (notAfter {cert.not_valid_after_utc.isoformat()})")
            elif left < timedelta(days=warn_days):
                p.passed(evidence, f"WARNING: expires in {left.days} days (threshold {warn_days})")
            else:
                p.passed(evidence)
    return p.result


def check_key_pair(control: str, target: str, certificate_pem: str, private_key_pem: str) -> Result:
    """PASS when the private key belongs to the certificate (offline, e.g. before an upload)."""
    register_secret(private_key_pem)
    with probe(control, target, expected="private key matches certificate") as p:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
        _judge_key(p, cert, private_key_pem, certificate_evidence(cert))
    return p.result


def check_key_matches(
    control: str,
    target: str,
    host: str,
    port: int,
    private_key_pem: str,
    server_name: str | None = None,
    client_cert: ClientCert | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when the certificate the server presents belongs to ``private_key_pem``."""
    register_secret(private_key_pem)
    with probe(control, target, expected="served certificate matches the private key") as p:
        got = _presented_certificate(p, host, port, server_name, client_cert, timeout)
        if got is not None:
            cert, hs = got
            _judge_key(p, cert, private_key_pem, hs.evidence())
    return p.result


def _judge_key(p: Probe, cert: x509.Certificate, private_key_pem: str, evidence: dict[str, JsonValue]) -> None:
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError):
        p.error("the private key could not be parsed (PEM, unencrypted expected)")
        return
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    key_fp = hashes.Hash(hashes.SHA256())
    key_fp.update(key.public_key().public_bytes(*spki))
    cert_fp = hashes.Hash(hashes.SHA256())
    cert_fp.update(cert.public_key().public_bytes(*spki))
    key_hex, cert_hex = key_fp.finalize().hex(), cert_fp.finalize().hex()
    evidence.update({"key_spki_sha256": key_hex, "cert_spki_sha256": cert_hex})
    p.check(key_hex == cert_hex, evidence, "certificate's public key is not the key's public key")


# ------------------------------------------------------------------------------ legacy self-test


def legacy_probe_self_test(timeout: float = DEFAULT_TIMEOUT_S) -> Result:
    """Prove the legacy probes can complete TLS 1.0 and 1.1 against a local server that allows them.

    Without this, a probe that silently never offered TLS 1.0 (OpenSSL 3's default security level)
    would report every server as "TLS 1.0 refused".
    """
    expected = "TLSv1 and TLSv1.1 negotiated"
    with probe("selftest.tls.legacy_probe", "localhost", expected=expected) as p, _permissive_server() as address:
        observed: dict[str, JsonValue] = {}
        for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_1):
            hs = handshake(*address, version_context(version), timeout=timeout)
            p.log(f"{version.value}: completed={hs.completed} protocol={hs.protocol} failure={hs.failure}")
            observed[version.value] = hs.protocol or hs.failure
        ok = all(observed.get(v.value) == v.value for v in (TlsVersion.TLS1_0, TlsVersion.TLS1_1))
        p.check(ok, observed, "the local client cannot negotiate legacy TLS")
    return p.result


_legacy_proven = threading.Event()  # set once the self-test passed in this process (a failure is retried)


def _legacy_capability() -> str | None:
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
    _set_versions(ctx, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_3)
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
