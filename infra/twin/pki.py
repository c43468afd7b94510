"""Certificate handling the node does itself: parsing, key matching, self-signed certs, CSRs.

Messages are the node's own wording where the guide quotes it; key material never enters a message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_PAIR_MISMATCH = "Certificate and private key do not appear to be part of the same key pair"
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
_PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class PkiError(ValueError):
    """Bad PEM input; the message is safe to show to a client."""


@dataclass(frozen=True)
class PemBundle:
    """A bundle split into its parts, in the order they appeared."""

    certificates: list[str]
    private_keys: list[str]
    parameters: list[str]


def split_pem(text: str) -> PemBundle:
    certs: list[str] = []
    keys: list[str] = []
    params: list[str] = []
    for match in _PEM_RE.finditer(text or ""):
        label, block = match.group(1), match.group(0) + "\n"
        if label in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
            certs.append(block)
        elif "PRIVATE KEY" in label:
            keys.append(block)
        elif "PARAMETERS" in label:
            params.append(block)
    return PemBundle(certs, keys, params)


def load_certificate(pem: str) -> x509.Certificate:
    blocks = split_pem(pem).certificates
    if not blocks:
        raise PkiError("No PEM-formatted certificate found")
    try:
        return x509.load_pem_x509_certificate(blocks[0].encode())
    except ValueError as exc:
        raise PkiError("Certificate could not be parsed") from exc


def load_private_key(pem: str, passphrase: str | None = None) -> PrivateKey:
    blocks = split_pem(pem).private_keys
    if not blocks:
        raise PkiError("No PEM-formatted private key found")
    try:
        key = serialization.load_pem_private_key(blocks[0].encode(), passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise PkiError("Private key could not be loaded (wrong passphrase or format)") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PkiError("Private key must be RSA or ECDSA")
    return key


def key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _spki(obj: Any) -> bytes:
    return bytes(
        obj.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    return _spki(cert) == _spki(key)


def fingerprint_sha256(pem: str) -> str:
    """Colon-separated upper-case SHA-256 fingerprint, as browsers and openssl show it."""
    digest = load_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.issuer == cert.subject


def _name_hash(name: x509.Name) -> str:
    # [?] real value is OpenSSL's X509_NAME_hash of the canonical DER; a stable 8-hex stand-in
    return hashlib.sha1(name.public_bytes(), usedforsecurity=False).hexdigest()[:8]


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [str(v) for v in ext.get_values_for_type(x509.DNSName)]
    names += [str(v) for v in ext.get_values_for_type(x509.IPAddress)]
    return names


def _key_id(cert: x509.Certificate, cls: type) -> str:
    try:
        value: Any = cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return ""
    raw = getattr(value, "digest", None) or getattr(value, "key_identifier", None) or b""
    return ":".join(f"{b:02X}" for b in raw)


def _eku(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def _fmt_time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def describe(pem: str) -> dict[str, Any]:
    """Read-only fields the API derives from a certificate."""
    cert = load_certificate(pem)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_cn = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    eku = _eku(cert)
    sans = _sans(cert)
    return {
        "start_date": _fmt_time(cert.not_valid_before_utc),
        "end_date": _fmt_time(cert.not_valid_after_utc),
        "subject_name": str(cn[0].value) if cn else cert.subject.rfc4514_string(),
        "subject_hash": _name_hash(cert.subject),
        "subject_alt_names": ", ".join(sans),
        "raw_subject": cert.subject.rfc4514_string(),
        "issuer_name": str(issuer_cn[0].value) if issuer_cn else cert.issuer.rfc4514_string(),
        "issuer_hash": _name_hash(cert.issuer),
        "raw_issuer": cert.issuer.rfc4514_string(),
        "serial_no": format(cert.serial_number, "x"),
        "key_id": _key_id(cert, x509.SubjectKeyIdentifier),
        "issuer_key_id": _key_id(cert, x509.AuthorityKeyIdentifier),
        "text": f"Subject: {cert.subject.rfc4514_string()}\nIssuer: {cert.issuer.rfc4514_string()}\n"
        f"Not Before: {_fmt_time(cert.not_valid_before_utc)}\nNot After: {_fmt_time(cert.not_valid_after_utc)}\n"
        f"Subject Alternative Names: {', '.join(sans)}\n",
        "client_auth_usage": ExtendedKeyUsageOID.CLIENT_AUTH in eku,
        "server_auth_usage": ExtendedKeyUsageOID.SERVER_AUTH in eku,
    }


def generate_key(kind: str) -> PrivateKey:
    """Key for a CSR's private_key_type (RSA2048, RSA4096, ECDSAP256)."""
    if kind == "ECDSAP256":
        return ec.generate_private_key(ec.SECP256R1())
    bits = 4096 if kind == "RSA4096" else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _general_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def self_signed(common_name: str, alt_names: list[str], key_bits: int) -> tuple[str, str]:
    """The node's default certificate: self-signed, server and client auth, ~10 years."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    sans = [_general_name(n) for n in dict.fromkeys([common_name, *alt_names]) if n]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert_pem(cert), key_pem(key)


def build_csr(
    key: PrivateKey,
    subject_name: str,
    dn: str,
    alt_names: list[str],
    ad_compatible: bool,
) -> str:
    """A CSR that, as the guide says, always asks for client and server authentication."""
    if dn:
        try:
            subject = x509.Name.from_rfc4514_string(dn)
        except ValueError as exc:
            raise PkiError("Enter a valid distinguished name") from exc
        if not subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            subject = x509.Name([*subject, x509.NameAttribute(NameOID.COMMON_NAME, subject_name)])
    else:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_name)])
    sans = [_general_name(n) for n in dict.fromkeys([subject_name, *alt_names]) if n]
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    if ad_compatible:
        # Microsoft certificate template name extension, value "WebServer" as a BMPString
        value = "WebServer".encode("utf-16-be")
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2"), bytes([0x1E, len(value)]) + value
            ),
            critical=False,
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def identity_from_certificate(der: bytes, mode: str) -> str | None:
    """The administrator identity a client certificate carries: subject CN or SAN userPrincipalName."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    if mode == "CN":
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(cns[0].value) if cns else None
    if mode == "UPN":
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return None
        for other in ext.get_values_for_type(x509.OtherName):
            if other.type_id == UPN_OID:
                return _der_utf8(other.value)
    return None


def _der_utf8(raw: bytes) -> str | None:
    """Decode a DER UTF8String (tag 0x0C) as found in a UPN otherName."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length, pos = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(raw[2 : 2 + count], "big")
        pos = 2 + count
    try:
        return raw[pos : pos + length].decode("utf-8")
    except UnicodeDecodeError:
        return None
