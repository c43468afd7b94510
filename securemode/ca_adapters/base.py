"""What a CA adapter is: it turns a node's CSR into a signed certificate (and its chain), or says
"not yet" when a person still has to obtain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securemode.pexip.certificates import split_pem


@dataclass(frozen=True)
class SigningRequest:
    """One node's CSR and the names it must be signed for (``client_auth``: an administrator's client
    certificate, which needs the clientAuth extended key usage)."""

    node: str
    common_name: str
    names: tuple[str, ...]
    csr_pem: str
    client_auth: bool = False


@dataclass(frozen=True)
class SignedCertificate:
    """The signed leaf and the intermediates a server must present with it."""

    certificate_pem: str
    chain_pem: str = ""

    def bundle(self) -> str:
        """Leaf first, then the chain: what is uploaded to the node."""
        return self.certificate_pem.strip() + "\n" + (self.chain_pem.strip() + "\n" if self.chain_pem.strip() else "")


class CaAdapter(Protocol):
    """Signs CSRs. ``sign`` returns None when the certificate is not available yet (manual CAs)."""

    name: str

    def sign(self, request: SigningRequest) -> SignedCertificate | None: ...


class RevokingCaAdapter(CaAdapter, Protocol):
    """A CA adapter that can also revoke what it issued (the rebuild revokes a compromised deployment's
    certificates) and list what it issued for a set of names."""

    def revoke(self, certificate_pem: str, reason: str) -> bool: ...

    def issued_for(self, names: set[str]) -> list[str]: ...

    def revoked(self, certificate_pem: str) -> bool: ...


class SignedCertificateProblem(ValueError):
    """A certificate handed back for a CSR that does not belong to it."""


def from_bundle(request: SigningRequest, pem: str) -> SignedCertificate:
    """Split a PEM bundle into the leaf for ``request`` and the rest; refuse a leaf for another key."""
    blocks = split_pem(pem)
    if not blocks:
        raise SignedCertificateProblem(f"{request.node}: the signed certificate is not a PEM certificate")
    wanted = _spki(x509.load_pem_x509_csr(request.csr_pem.encode()).public_key())
    leaf = next((b for b in blocks if _spki(x509.load_pem_x509_certificate(b.encode()).public_key()) == wanted), None)
    if leaf is None:
        raise SignedCertificateProblem(
            f"{request.node}: the signed certificate does not belong to this CSR (its public key differs); "
            f"sign the current CSR for {request.common_name}"
        )
    return SignedCertificate(leaf, "".join(b for b in blocks if b != leaf))


def _spki(key: object) -> bytes:
    public_bytes = getattr(key, "public_bytes")  # noqa: B009 - every public key type has it
    data = public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert isinstance(data, bytes)
    return data
