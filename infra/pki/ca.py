"""The lab certificate authority: a root, an intermediate, and the leaf certificates the lab needs.

Why two tiers: real deployments chain node certificates to an issuing CA under an offline root, and the
verifiers must prove that servers send the intermediate. So every TLS server in the lab presents
``leaf + intermediate`` and every client trusts only ``root.pem``.

File layout under the CA directory (stable; other modules rely on it)::

    root.pem                      root CA certificate: the trust anchor clients load
    root.key                      root key (0600)
    intermediate.pem              issuing CA certificate
    intermediate.key              issuing CA key (0600)
    chain.pem                     intermediate + root (a "trusted CA certificates" bundle)
    issued/<name>.pem             a leaf certificate issued here
    issued/<name>.key             its key (0600)
    issued/<name>-fullchain.pem   leaf + intermediate: what a TLS server presents
    signed/<serial>.pem           certificates signed from a CSR (the key stays with the requester)

Client certificates come in the two forms Pexip's "Require client certificate" accepts: the user
identity in the subject CN, or in the subjectAltName otherName userPrincipalName
(OID 1.3.6.1.4.1.311.20.2.3, a UTF8String).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from securemode.ca_adapters.issuing_ca import (
    BACKDATE,
    CHAIN,
    INTERMEDIATE_CERT,
    INTERMEDIATE_KEY,
    MIN_RSA_BITS,
    ROOT_CERT,
    IssuerKey,
    IssuingCA,
    Validity,
    authority_key_id,
    cert_pem,
)

UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
"""Microsoft userPrincipalName otherName, used by smart-card style client certificates."""

KeyType = Literal["ec", "rsa"]

ROOT_KEY = "root.key"
ISSUED_DIR = "issued"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


@dataclass(frozen=True)
class IssuedCertificate:
    """Paths of one issued leaf certificate and its key."""

    name: str
    cert_path: Path
    key_path: Path
    fullchain_path: Path

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())


def new_private_key(key_type: KeyType = "ec") -> IssuerKey:
    """A fresh key: P-256 (fast, the lab default) or RSA-2048 (what many appliances expect)."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    raise ValueError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), even if the file existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def key_pem(key: IssuerKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def upn_other_name(upn: str) -> x509.OtherName:
    """The subjectAltName otherName carrying a userPrincipalName as a DER UTF8String."""
    raw = upn.encode("utf-8")
    if len(raw) > 127:
        raise ValueError("userPrincipalName longer than 127 bytes is not supported")
    return x509.OtherName(UPN_OID, bytes([0x0C, len(raw)]) + raw)


def upns_of(cert: x509.Certificate) -> list[str]:
    """The userPrincipalName values in a certificate's subjectAltName (reading helper for tests/lab_infra/twin)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    found: list[str] = []
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID and other.value[:1] == b"\x0c":
            found.append(other.value[2 : 2 + other.value[1]].decode("utf-8"))
    return found


class LabCA(IssuingCA):
    """The lab's root and intermediate CA: created here, and issuing the leaf certificates the lab needs."""

    # -- creation and loading ------------------------------------------------------------------
    @classmethod
    def ensure(cls, directory: Path | str, name: str = "securemode lab", key_type: KeyType = "ec") -> LabCA:
        """Load the CA in ``directory``, or create it there if it does not exist yet (idempotent)."""
        directory = Path(directory)
        if (directory / ROOT_CERT).exists():
            return cls.load(directory)
        return cls.create(directory, name=name, key_type=key_type)

    @classmethod
    def create(cls, directory: Path | str, name: str = "securemode lab", key_type: KeyType = "ec") -> LabCA:
        """Make a new root and intermediate in ``directory`` (refuses to overwrite an existing CA)."""
        directory = Path(directory)
        if (directory / ROOT_CERT).exists():
            raise FileExistsError(f"a CA already exists in {directory}; use LabCA.load or LabCA.ensure")
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        root_key = new_private_key(key_type)
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root CA"),
            ]
        )
        root_cert = _ca_builder(root_name, root_name, root_key, path_length=1, years=20).sign(root_key, hashes.SHA256())
        int_key = new_private_key(key_type)
        int_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} issuing CA"),
            ]
        )
        int_cert = (
            _ca_builder(int_name, root_name, int_key, path_length=0, years=10)
            .add_extension(authority_key_id(root_key), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        write_private(directory / ROOT_KEY, key_pem(root_key))
        write_private(directory / INTERMEDIATE_KEY, key_pem(int_key))
        (directory / ROOT_CERT).write_bytes(cert_pem(root_cert))
        (directory / INTERMEDIATE_CERT).write_bytes(cert_pem(int_cert))
        (directory / CHAIN).write_bytes(cert_pem(int_cert) + cert_pem(root_cert))
        return cls(directory, root_cert, int_cert, int_key)

    # -- issuing -------------------------------------------------------------------------------
    def issue_server(
        self,
        name: str,
        *,
        dns_names: Iterable[str] = (),
        ip_addresses: Iterable[str] = (),
        common_name: str | None = None,
        validity: Validity | None = None,
        valid_days: int = 365,
        key_type: KeyType = "ec",
        client_auth: bool = False,
    ) -> IssuedCertificate:
        """A TLS server certificate (serverAuth) with the given DNS and IP subjectAltNames.

        ``name`` is the file stem under ``issued/``; the CN defaults to the first DNS name, else the
        first IP address, else ``name``. Pass ``validity=Validity.expired()`` for a negative test.
        """
        dns = list(dns_names)
        ips = [ipaddress.ip_address(a) for a in ip_addresses]
        cn = common_name or (dns[0] if dns else str(ips[0]) if ips else name)
        san: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        san += [x509.IPAddress(ip) for ip in ips]
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])
        return self._issue(name, cn, san, usages, validity or Validity.days(valid_days), key_type)

    def issue_client(
        self,
        username: str,
        *,
        upn: str | None = None,
        name: str | None = None,
        validity: Validity | None = None,
        valid_days: int = 365,
        key_type: KeyType = "ec",
    ) -> IssuedCertificate:
        """A client certificate (clientAuth) for one user.

        CN form: subject CN = ``username``. UPN form (``upn`` given): subject CN = ``username`` and the
        subjectAltName carries ``upn`` as a userPrincipalName otherName. The file stem is ``name`` or
        ``client-<username>`` / ``client-<username>-upn``.
        """
        stem = name or (f"client-{username}-upn" if upn else f"client-{username}")
        san: list[x509.GeneralName] = [upn_other_name(upn)] if upn else []
        return self._issue(
            stem,
            username,
            san,
            [ExtendedKeyUsageOID.CLIENT_AUTH],
            validity or Validity.days(valid_days),
            key_type,
        )

    # -- internals -----------------------------------------------------------------------------
    def _issue(
        self,
        name: str,
        common_name: str,
        san: Sequence[x509.GeneralName],
        usages: Sequence[ObjectIdentifier],
        validity: Validity,
        key_type: KeyType,
    ) -> IssuedCertificate:
        if not _SAFE_NAME.match(name):
            raise ValueError(f"certificate name {name!r} must match {_SAFE_NAME.pattern} (it is a file name)")
        key = new_private_key(key_type)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        san_ext = x509.SubjectAlternativeName(list(san)) if san else None
        cert = self._leaf_builder(subject, key.public_key(), usages, validity, san_ext).sign(
            self._intermediate_key, hashes.SHA256()
        )
        out = self.directory / ISSUED_DIR
        out.mkdir(exist_ok=True)
        issued = IssuedCertificate(
            name=name,
            cert_path=out / f"{name}.pem",
            key_path=out / f"{name}.key",
            fullchain_path=out / f"{name}-fullchain.pem",
        )
        write_private(issued.key_path, key_pem(key))
        issued.cert_path.write_bytes(cert_pem(cert))
        issued.fullchain_path.write_bytes(cert_pem(cert) + cert_pem(self.intermediate_cert))
        return issued

def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: IssuerKey,
    *,
    path_length: int,
    years: int,
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
