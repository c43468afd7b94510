"""Certificate facts the pki stage decides on: required names, whether a node's certificate is good,
and local key + CSR generation for when the CN must be an IP address.

A node's certificate is left alone when it chains to the site's trusted CAs, covers every name the
site requires for that node, and stays valid for longer than ``pki.expiry_warning_days``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from securemode.site import ConferencingNode, KeyType, NodeCommon, Pki

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def required_names(node: NodeCommon, pki: Pki) -> list[str]:
    """Names the node's certificate must cover: FQDN, SIP TLS FQDN, the site's extra SANs, and the
    node's address when the CN is an IP address (``csr_on_node: false``)."""
    names = [node.fqdn]
    if isinstance(node, ConferencingNode) and node.sip_tls_fqdn:
        names.append(node.sip_tls_fqdn)
    if not pki.csr_on_node:
        names.append(str(node.address))
    names += pki.additional_sans
    return list(dict.fromkeys(n.lower() for n in names))


def common_name(node: NodeCommon, pki: Pki) -> str:
    return node.fqdn if pki.csr_on_node else str(node.address)


def split_pem(text: str) -> list[str]:
    """The PEM certificate blocks in ``text``, in order."""
    out: list[str] = []
    marker_begin, marker_end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    rest = text
    while marker_begin in rest:
        start = rest.index(marker_begin)
        end = rest.index(marker_end, start) + len(marker_end)
        out.append(rest[start:end] + "\n")
        rest = rest[end:]
    return out


def load_certificates(pems: Sequence[str]) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(p.encode()) for p in pems]


def read_ca_files(paths: Sequence[Path]) -> list[str]:
    """Every certificate block of the site's trusted CA files."""
    blocks: list[str] = []
    for path in paths:
        blocks += split_pem(path.read_text(encoding="ascii"))
    return blocks


def san_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names


def _covers(sans: Sequence[str], name: str) -> bool:
    try:
        return str(ipaddress.ip_address(name)) in sans
    except ValueError:
        return name.lower() in sans


# The controls a node certificate's problems break (securemode/catalogue/pki.py), in the order a plan names them.
TRUSTED = "pki.cert.trusted"
NAMES = "pki.cert.name"
VALIDITY = "pki.cert.validity"


@dataclass(frozen=True)
class CertProblem:
    """One thing wrong with a node's certificate, and the control it breaks."""

    control: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """What is wrong with a node's certificate (nothing when ``problems`` is empty)."""

    problems: tuple[CertProblem, ...]
    subject: str
    not_after: str
    sans: tuple[str, ...]

    @property
    def good(self) -> bool:
        return not self.problems

    @property
    def control(self) -> str:
        """The control a change of this certificate repairs: the first one broken (chain, names, validity)."""
        return self.problems[0].control if self.problems else TRUSTED

    def summary(self) -> str:
        return "ok" if self.good else "; ".join(p.text for p in self.problems)


def missing_certificate(why: str) -> Assessment:
    return Assessment((CertProblem(TRUSTED, why),), "", "", ())


def assess(
    chain_pem: str, anchors_pem: Sequence[str], names: Sequence[str], warning_days: int,
    now: datetime | None = None,
) -> Assessment:
    """Judge a served chain (leaf first) against the site's CAs, required names and expiry threshold.

    An expired (or not yet valid) certificate signed by the site's CA is a validity problem
    (``pki.cert.validity``), not a trust one: outside its validity window only its signatures are checked.
    """
    at = now or datetime.now(UTC)
    certs = load_certificates(split_pem(chain_pem))
    if not certs:
        return missing_certificate("no certificate")
    leaf, intermediates = certs[0], certs[1:]
    sans = san_names(leaf)
    problems: list[CertProblem] = []
    chain_problem = _chain_problem(leaf, intermediates, load_certificates(anchors_pem), at, names[0] if names else "")
    if chain_problem:
        problems.append(CertProblem(TRUSTED, f"does not chain to the site's trusted CAs ({chain_problem})"))
    missing = [n for n in names if not _covers(sans, n)]
    if missing:
        problems.append(CertProblem(NAMES, f"does not cover {', '.join(missing)}"))
    validity = validity_problem(leaf, at, warning_days)
    if validity:
        problems.append(CertProblem(VALIDITY, validity))
    return Assessment(tuple(problems), leaf.subject.rfc4514_string(), leaf.not_valid_after_utc.isoformat(),
                      tuple(sans))


def validity_problem(leaf: x509.Certificate, at: datetime, warning_days: int) -> str | None:
    """Expired, not yet valid, or expiring within ``warning_days`` (None when none of these)."""
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if at > not_after:
        return f"expired on {not_after.date().isoformat()}"
    if at < not_before:
        return f"not valid before {not_before.date().isoformat()}"
    if not_after - at < timedelta(days=warning_days):
        return f"expires {not_after.date().isoformat()}, within {warning_days} days"
    return None


def _chain_problem(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate], at: datetime,
    name: str,
) -> str | None:
    """Why the chain does not verify as a TLS server certificate for ``name`` (None when it does)."""
    if not anchors:
        return "no trusted CA certificates"
    if leaf.issuer == leaf.subject:
        return "self-signed"
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        return None if _signed_by_anchor(leaf, intermediates, anchors) else "not signed by them"
    subject: x509.DNSName | x509.IPAddress
    try:
        subject = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        subject = x509.DNSName(name)
    builder = verification.PolicyBuilder().store(verification.Store(anchors)).time(at)
    verifier = builder.build_server_verifier(subject)
    try:
        verifier.verify(leaf, intermediates)
    except verification.VerificationError as exc:
        return readable_verification_error(exc)
    return None


def _signed_by_anchor(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate]
) -> bool:
    """Whether the signatures lead from ``leaf`` through ``intermediates`` to one of ``anchors`` (time ignored)."""
    current = leaf
    for _ in range(len(intermediates) + 1):
        if any(_issued_by(current, anchor) for anchor in anchors):
            return True
        parent = next((c for c in intermediates if c is not current and _issued_by(current, c)), None)
        if parent is None:
            return False
        current = parent
    return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def readable_verification_error(exc: Exception) -> str:
    """The reason of a chain verification error, without the library's object dump
    (``(encountered processing <Certificate(subject=…)>)``)."""
    text = str(exc).removeprefix("validation failed: ")
    return text.split(" (encountered processing ", 1)[0].strip()[:200]


# local key and CSR -------------------------------------------------------------------------------------
def new_private_key(key_type: KeyType) -> PrivateKey:
    if key_type is KeyType.ECDSAP256:
        return ec.generate_private_key(ec.SECP256R1())
    bits = 4096 if key_type is KeyType.RSA4096 else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return key


def key_type_of(key: PrivateKey) -> KeyType:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return KeyType.ECDSAP256
    return KeyType.RSA4096 if key.key_size >= 4096 else KeyType.RSA2048


def build_csr(key: PrivateKey, cn: str, names: Sequence[str]) -> str:
    """A CSR with subject CN ``cn`` and every name as a DNS or IP subjectAltName (serverAuth)."""
    general: list[x509.GeneralName] = []
    for name in dict.fromkeys([cn, *names]):
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .add_extension(x509.SubjectAlternativeName(general), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def csr_names(csr_pem: str) -> list[str]:
    """The SAN names of a PEM CSR (lower-case DNS names and IP addresses)."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [n.lower() for n in san.get_values_for_type(x509.DNSName)] + [
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    ]
