"""The lab CA adapter: signs with the issuing CA kept in ``site.pki.ca_dir`` (the lab creates it there), and
revokes what it signed (``revoked.json`` and the CRL ``crl.pem`` beside it)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from securemode.ca_adapters.base import SignedCertificate, SigningRequest, from_bundle
from securemode.ca_adapters.issuing_ca import IssuingCA


def names_of(cert: x509.Certificate) -> set[str]:
    """The certificate's CN and subjectAltName DNS names and IP addresses, as text."""
    found = {str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)}
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return found
    found |= set(san.get_values_for_type(x509.DNSName))
    found |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return found


class LabCaAdapter:
    """Signs at once; the chain handed back is the lab's intermediate."""

    name = "lab"

    def __init__(self, ca_dir: Path, valid_days: int = 365) -> None:
        self._ca = IssuingCA.load(ca_dir)
        self.valid_days = valid_days

    @property
    def crl_path(self) -> Path:
        return self._ca.crl_path

    def sign(self, request: SigningRequest) -> SignedCertificate | None:
        leaf = self._ca.sign_csr(request.csr_pem.encode(), valid_days=self.valid_days,
                                 client_auth=request.client_auth).decode()
        chain = self._ca.intermediate_path.read_text(encoding="ascii")
        return from_bundle(request, leaf + chain)

    def revoke(self, certificate_pem: str, reason: str) -> bool:
        """Revoke a certificate this CA issued; False when it was revoked already."""
        return self._ca.revoke(certificate_pem.encode(), reason)

    def revoked(self, certificate_pem: str) -> bool:
        return self._ca.is_revoked(x509.load_pem_x509_certificate(certificate_pem.encode()))

    def issued_for(self, names: set[str]) -> list[str]:
        """Every certificate the CA issued that names any of ``names`` (revoked ones too), as PEM."""
        from cryptography.hazmat.primitives import serialization

        return [c.public_bytes(serialization.Encoding.PEM).decode() for c in self._ca.issued()
                if names_of(c) & names]
