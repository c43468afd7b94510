"""Certificate evidence: what a certificate says (subject, SANs, validity, fingerprint), whether it
covers a name (RFC 6125), and whether a private key belongs to it."""

from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from securemode.endpoint import is_ip
from securemode.results import JsonValue

SanName = str | ipaddress.IPv4Address | ipaddress.IPv6Address


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


def subject_alt_names(cert: x509.Certificate) -> list[SanName]:
    """DNS names and IP addresses of the SAN extension (empty when it has none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[SanName] = list(san.get_values_for_type(x509.DNSName))
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
        if is_ip(name):
            wanted = ipaddress.ip_address(name)
            return any(s == wanted for s in sans if not isinstance(s, str)), "SAN"
        return any(_dns_match(s, name) for s in sans if isinstance(s, str)), "SAN"
    cns = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if is_ip(name):
        return any(is_ip(cn) and ipaddress.ip_address(cn) == ipaddress.ip_address(name) for cn in cns), "CN"
    return any(_dns_match(cn, name) for cn in cns), "CN"


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*.") or "*" in pattern[1:]:
        return False
    head, _, rest = name.partition(".")
    return bool(head) and rest == pattern[2:] and "." in rest


def spki_fingerprints(cert: x509.Certificate, private_key_pem: str) -> tuple[str, str]:
    """(key, certificate) SHA-256 of the SubjectPublicKeyInfo: equal when the key belongs to the
    certificate. ValueError/TypeError when the key is not an unencrypted PEM private key."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    key_fp = hashes.Hash(hashes.SHA256())
    key_fp.update(key.public_key().public_bytes(*spki))
    cert_fp = hashes.Hash(hashes.SHA256())
    cert_fp.update(cert.public_key().public_bytes(*spki))
    return key_fp.finalize().hex(), cert_fp.finalize().hex()
