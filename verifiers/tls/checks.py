"""TLS checks of a server as a client would see it: versions, anonymous DH, chain, names, validity, key.

Each check takes the control id, the target name and the :class:`~securemode.endpoint.Endpoint` to
probe, does its own handshake (:mod:`securemode.verifiers.tls.handshake`) and returns a
:class:`~securemode.results.Result` whose ``observed`` carries the negotiated protocol and cipher and
the certificate's subject, SANs and notAfter. No TCP connection (refused, unreachable, timeout) is
ERROR, never a pass; refusals are judged by :mod:`securemode.verifiers.tls.judges`, and a legacy refusal only
once :mod:`securemode.verifiers.tls.legacy` proved this client can offer the version at all.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from securemode.endpoint import Endpoint
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers.tls.certificates import certificate_evidence, name_matches, spki_fingerprints
from securemode.verifiers.tls.contexts import (
    TlsVersion,
    anon_dh_context,
    inspecting_context,
    verifying_context,
    version_context,
)
from securemode.verifiers.tls.handshake import Handshake, TlsConnectError, handshake
from securemode.verifiers.tls.judges import control_handshake, judge_acceptance, record_refusal
from securemode.verifiers.tls.legacy import legacy_capability


def _attempt(p: Probe, endpoint: Endpoint, ctx: ssl.SSLContext) -> Handshake | None:
    """One handshake for a check; sets ERROR on the probe and returns None when TCP fails."""
    try:
        hs = handshake(endpoint, ctx)
    except TlsConnectError as exc:
        p.log(str(exc))
        p.error(str(exc))
        return None
    p.log(
        f"handshake {'completed' if hs.completed else 'failed'}: protocol={hs.protocol} cipher={hs.cipher} "
        f"server_hello={hs.server_hello_version} failure={hs.failure}"
    )
    return hs


def check_protocol_refused(control: str, target: str, endpoint: Endpoint, version: TlsVersion) -> Result:
    """PASS when the server refuses a handshake that offers only ``version``."""
    with probe(control, target, expected=f"{version.value} refused") as p:
        p.log(f"offer only {version.value} to {endpoint.host}:{endpoint.port}")
        incapable = legacy_capability() if version.legacy else None
        if incapable is not None:
            p.error(f"this client cannot complete {version.value} even locally: {incapable}")
        else:
            hs = _attempt(p, endpoint, version_context(version, endpoint.client_cert))
            if hs is not None:
                record_refusal(p, hs, version.value, control_handshake(endpoint))
    return p.result


def check_protocol_accepted(
    control: str, target: str, endpoint: Endpoint, version: TlsVersion = TlsVersion.TLS1_2
) -> Result:
    """PASS when a handshake offering only ``version`` completes with that version."""
    with probe(control, target, expected=f"{version.value} accepted") as p:
        p.log(f"offer only {version.value} to {endpoint.host}:{endpoint.port}")
        hs = _attempt(p, endpoint, version_context(version, endpoint.client_cert))
        if hs is not None:
            judge_acceptance(p, hs, version.value)
    return p.result


def check_anon_dh_refused(control: str, target: str, endpoint: Endpoint) -> Result:
    """PASS when a client offering only anonymous (EC)DH suites (ADH/AECDH) cannot connect."""
    with probe(control, target, expected="anonymous DH refused") as p:
        p.log(f"offer only aNULL suites (TLS 1.0-1.2) to {endpoint.host}:{endpoint.port}")
        hs = _attempt(p, endpoint, anon_dh_context(endpoint.client_cert))
        if hs is not None:
            record_refusal(p, hs, "anonymous DH", control_handshake(endpoint))
    return p.result


def service_answers_tls(endpoint: Endpoint) -> tuple[bool, str]:
    """(alive, why): whether a TLS handshake on the endpoint completes — the sign that a node's HTTPS
    service is up, which a bare TCP accept (a relay, a backlog) is not."""
    where = f"{endpoint.host}:{endpoint.port}"
    try:
        hs = handshake(endpoint, inspecting_context())
    except TlsConnectError as exc:
        return False, str(exc)
    if hs.completed:
        return True, f"TLS handshake on {where} completed ({hs.protocol})"
    return False, f"TLS handshake on {where} failed: {hs.failure}"


def check_chain_trusted(control: str, target: str, endpoint: Endpoint) -> Result:
    """PASS when the presented chain verifies (signatures, validity) to the CA(s) in ``endpoint.ca_file``."""
    ca_file = endpoint.ca_file
    with probe(control, target, expected=f"chain verifies to {Path(ca_file or '').name}") as p:
        if ca_file is None:
            p.error(f"no CA bundle to verify {endpoint.host}:{endpoint.port} against")
        else:
            hs = _attempt(p, endpoint, verifying_context(ca_file, endpoint.client_cert))
            if hs is not None:
                _judge_chain(p, hs, endpoint)
    return p.result


def _judge_chain(p: Probe, hs: Handshake, endpoint: Endpoint) -> None:
    if hs.completed:
        p.passed(hs.evidence())
    elif hs.verify_error:
        evidence = hs.evidence()
        plain = _attempt(p, endpoint, inspecting_context(endpoint.client_cert))
        if plain is not None and plain.cert_der:
            evidence.update(certificate_evidence(x509.load_der_x509_certificate(plain.cert_der)))
        p.failed(evidence, f"chain does not verify: {hs.verify_error}")
    else:
        p.error(f"handshake failed before the chain could be judged: {hs.failure}", hs.evidence())


def _presented_certificate(p: Probe, endpoint: Endpoint) -> tuple[x509.Certificate, Handshake] | None:
    hs = _attempt(p, endpoint, inspecting_context(endpoint.client_cert))
    if hs is None:
        return None
    if hs.cert_der is None:
        p.error(f"no certificate was presented ({hs.failure})", hs.evidence())
        return None
    return x509.load_der_x509_certificate(hs.cert_der), hs


def check_names(control: str, target: str, endpoint: Endpoint, expected_names: Sequence[str]) -> Result:
    """PASS when every expected name (FQDN, SIP TLS FQDN, IP) matches the presented certificate."""
    with probe(control, target, expected={"names": list(expected_names)}) as p:
        got = _presented_certificate(p, endpoint)
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
    control: str, target: str, endpoint: Endpoint, warn_days: int = 30, now: datetime | None = None
) -> Result:
    """PASS inside the validity window (with a WARNING when it ends within ``warn_days``), else FAIL."""
    with probe(control, target, expected=f"valid now, warn within {warn_days} days") as p:
        got = _presented_certificate(p, endpoint)
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


def check_key_matches(control: str, target: str, endpoint: Endpoint, private_key_pem: str) -> Result:
    """PASS when the certificate the server presents belongs to ``private_key_pem``."""
    register_secret(private_key_pem)
    with probe(control, target, expected="served certificate matches the private key") as p:
        got = _presented_certificate(p, endpoint)
        if got is not None:
            cert, hs = got
            _judge_key(p, cert, private_key_pem, hs.evidence())
    return p.result


def check_key_possession(control: str, target: str, endpoint: Endpoint) -> Result:
    """PASS when a handshake completes with a certificate: the server signed (or decrypted) with the
    private key of the certificate it presented, so certificate and key are one pair. For nodes whose
    key never left them (CSR on the node), where :func:`check_key_matches` has no key to compare."""
    with probe(control, target, expected="server proves possession of the certificate's key") as p:
        hs = handshake(endpoint, inspecting_context(endpoint.client_cert))
        p.log(f"handshake {'completed' if hs.completed else 'failed'}: {hs.protocol} {hs.cipher} {hs.failure or ''}")
        if hs.completed and hs.cert_der is None:
            p.failed(hs.evidence(), "no certificate presented (anonymous suite)")
        elif hs.completed:
            p.passed(hs.evidence())
        elif hs.cert_der is not None and hs.server_hello_version is not None:
            p.failed(hs.evidence(), f"the server presented a certificate but the handshake failed: {hs.failure}")
        else:
            p.error(f"handshake did not get as far as the certificate: {hs.failure}", hs.evidence())
    return p.result


def _judge_key(p: Probe, cert: x509.Certificate, private_key_pem: str, evidence: dict[str, JsonValue]) -> None:
    try:
        key_hex, cert_hex = spki_fingerprints(cert, private_key_pem)
    except (ValueError, TypeError):
        p.error("the private key could not be parsed (PEM, unencrypted expected)")
        return
    evidence.update({"key_spki_sha256": key_hex, "cert_spki_sha256": cert_hex})
    p.check(key_hex == cert_hex, evidence, "certificate's public key is not the key's public key")
