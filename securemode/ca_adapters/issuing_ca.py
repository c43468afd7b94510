"""An issuing CA kept in a directory: load it and sign a node's CSR (the ``lab`` CA adapter's signer).

The directory holds ``root.pem``, ``intermediate.pem`` and ``intermediate.key`` (the lab creates them;
see the lab's CA). Signing copies the CSR's subject and subjectAltName as they are, and every signed
certificate is kept under ``signed/<serial>.pem``. Revoking a certificate records its serial in
``revoked.json`` and re-issues ``crl.pem``, a CRL signed by the intermediate that any verifier can check.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

IssuerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ROOT_CERT = "root.pem"
INTERMEDIATE_CERT = "intermediate.pem"
INTERMEDIATE_KEY = "intermediate.key"
CHAIN = "chain.pem"
SIGNED_DIR = "signed"
REVOKED = "revoked.json"
CRL = "crl.pem"
CRL_VALID = dt.timedelta(days=7)
MIN_RSA_BITS = 2048
BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock differences between processes


@dataclass(frozen=True)
class Validity:
    """A certificate's validity window (UTC)."""

    not_before: dt.datetime
    not_after: dt.datetime

    @classmethod
    def days(cls, valid_days: int) -> Validity:
        now = dt.datetime.now(dt.UTC)
        return cls(now - BACKDATE, now + dt.timedelta(days=valid_days))

    @classmethod
    def expired(cls) -> Validity:
        """Expired yesterday: for negative tests of certificate validation."""
        now = dt.datetime.now(dt.UTC)
        return cls(now - dt.timedelta(days=30), now - dt.timedelta(days=1))

    @classmethod
    def not_yet_valid(cls) -> Validity:
        now = dt.datetime.now(dt.UTC)
        return cls(now + dt.timedelta(days=1), now + dt.timedelta(days=30))


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def authority_key_id(issuer_key: IssuerKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())


class IssuingCA:
    """A root and an intermediate CA living in one directory; signs with the intermediate."""

    def __init__(
        self,
        directory: Path,
        root_cert: x509.Certificate,
        intermediate_cert: x509.Certificate,
        intermediate_key: IssuerKey,
    ) -> None:
        self.directory = directory
        self.root_cert = root_cert
        self.intermediate_cert = intermediate_cert
        self._intermediate_key = intermediate_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.directory)!r}, root={self.root_cert.subject.rfc4514_string()!r})"

    # -- paths ---------------------------------------------------------------------------------
    @property
    def root_path(self) -> Path:
        """The trust anchor: give this file to every client that must verify a lab server."""
        return self.directory / ROOT_CERT

    @property
    def intermediate_path(self) -> Path:
        return self.directory / INTERMEDIATE_CERT

    @property
    def chain_path(self) -> Path:
        """Intermediate + root, e.g. for a "trusted CA certificates" upload."""
        return self.directory / CHAIN

    @classmethod
    def load(cls, directory: Path | str) -> Self:
        directory = Path(directory)
        missing = [n for n in (ROOT_CERT, INTERMEDIATE_CERT, INTERMEDIATE_KEY) if not (directory / n).exists()]
        if missing:
            raise FileNotFoundError(f"no lab CA in {directory}: missing {', '.join(missing)}")
        key = serialization.load_pem_private_key((directory / INTERMEDIATE_KEY).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{directory / INTERMEDIATE_KEY}: unsupported key type {type(key).__name__}")
        return cls(
            directory,
            x509.load_pem_x509_certificate((directory / ROOT_CERT).read_bytes()),
            x509.load_pem_x509_certificate((directory / INTERMEDIATE_CERT).read_bytes()),
            key,
        )

    def sign_csr(
        self,
        csr_pem: bytes,
        *,
        validity: Validity | None = None,
        valid_days: int = 365,
        client_auth: bool = False,
    ) -> bytes:
        """Sign a PEM CSR as a TLS server certificate and return the PEM certificate.

        The subject and the subjectAltName are copied from the CSR as they are (a CSR without a SAN
        gets a certificate without one). The CSR's own signature must verify, and RSA keys must have at
        least 2048 bits; otherwise ValueError says which.
        """
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as exc:
            raise ValueError(f"not a PEM certificate signing request: {exc}") from None
        if not csr.is_signature_valid:
            raise ValueError("CSR signature does not verify against its own public key")
        public_key = csr.public_key()
        if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"CSR RSA key has {public_key.key_size} bits; at least {MIN_RSA_BITS} needed")
        if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise ValueError(f"CSR key type {type(public_key).__name__} is not supported (use RSA or EC)")
        try:
            san_ext: x509.SubjectAlternativeName | None = csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value
        except x509.ExtensionNotFound:
            san_ext = None
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])
        builder = self._leaf_builder(csr.subject, public_key, usages, validity or Validity.days(valid_days), san_ext)
        cert = builder.sign(self._intermediate_key, hashes.SHA256())
        signed_dir = self.directory / SIGNED_DIR
        signed_dir.mkdir(exist_ok=True)
        (signed_dir / f"{cert.serial_number:x}.pem").write_bytes(cert_pem(cert))
        return cert_pem(cert)

    # -- revocation ----------------------------------------------------------------------------
    @property
    def crl_path(self) -> Path:
        """The CRL of the intermediate (PEM), rewritten on every revocation."""
        return self.directory / CRL

    def revoked_serials(self) -> dict[int, str]:
        """Serial -> when it was revoked (ISO 8601)."""
        try:
            data = json.loads((self.directory / REVOKED).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {int(serial, 16): str(entry["revoked_at"]) for serial, entry in data.items()}

    def is_revoked(self, cert: x509.Certificate) -> bool:
        return cert.serial_number in self.revoked_serials()

    def issued_by_me(self, cert: x509.Certificate) -> bool:
        """True when this intermediate signed ``cert``."""
        if cert.issuer != self.intermediate_cert.subject:
            return False
        try:
            cert.verify_directly_issued_by(self.intermediate_cert)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def revoke(self, cert_pem: bytes, reason: str = "") -> bool:
        """Revoke a certificate this CA issued (True), or say it was revoked already (False); refuse another
        CA's certificate. The CRL is re-signed either way, so it is always current."""
        cert = x509.load_pem_x509_certificate(cert_pem)
        if not self.issued_by_me(cert):
            raise ValueError(f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) was not issued by "
                             f"{self.intermediate_cert.subject.rfc4514_string()}")
        path = self.directory / REVOKED
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        serial = f"{cert.serial_number:x}"
        fresh = serial not in data
        if fresh:
            data[serial] = {"revoked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            "subject": cert.subject.rfc4514_string(), "reason": reason}
            _replace(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
        self.write_crl()
        return fresh

    def write_crl(self) -> Path:
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.intermediate_cert.subject)
                   .last_update(now - BACKDATE).next_update(now + CRL_VALID)
                   .add_extension(authority_key_id(self._intermediate_key), critical=False))
        for serial, when in sorted(self.revoked_serials().items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(dt.datetime.fromisoformat(when)).build())
        crl = builder.sign(self._intermediate_key, hashes.SHA256())
        _replace(self.crl_path, crl.public_bytes(serialization.Encoding.PEM))
        return self.crl_path

    def sign_ocsp(self, builder: ocsp.OCSPResponseBuilder) -> ocsp.OCSPResponse:
        """Sign an OCSP response as this (issuing) CA: the lab's OCSP responder answers for what it issued."""
        return builder.sign(self._intermediate_key, hashes.SHA256())

    def issued(self) -> list[x509.Certificate]:
        """Every certificate this CA signed (kept under ``signed/``)."""
        folder = self.directory / SIGNED_DIR
        return [x509.load_pem_x509_certificate(p.read_bytes()) for p in sorted(folder.glob("*.pem"))] \
            if folder.is_dir() else []

    def _leaf_builder(
        self,
        subject: x509.Name,
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
        usages: Sequence[ObjectIdentifier],
        validity: Validity,
        san: x509.SubjectAlternativeName | None,
    ) -> x509.CertificateBuilder:
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.intermediate_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity.not_before)
            .not_valid_after(validity.not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(authority_key_id(self._intermediate_key), critical=False)
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        return builder


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
