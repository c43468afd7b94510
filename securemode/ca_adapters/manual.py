"""The manual CA adapter: a person submits the CSR to the organisation's CA and hands back the result.

How the signed certificate comes back is a :class:`CertificateProvider`: a Prefect pause-for-input
(wired by the flows), or by default a folder — the CSR is written to ``<state>/pexip/<site>/csr/<node>.csr``
and the certificate is picked up from ``signed/<node>.pem`` on the next run. Until then ``sign`` returns
None and the stage reports the node as waiting, without changing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from securemode.ca_adapters.base import SignedCertificate, SigningRequest, from_bundle
from securemode.pexip.state import safe_name


@runtime_checkable
class CertificateProvider(Protocol):
    """Asks for the signed certificate (PEM, leaf plus optional chain) of a CSR; None = not yet."""

    def signed_certificate(self, request: SigningRequest) -> str | None: ...


class FolderProvider:
    """Hands CSRs out and takes certificates in through two folders."""

    def __init__(self, csr_dir: Path, signed_dir: Path) -> None:
        self.csr_dir = csr_dir
        self.signed_dir = signed_dir

    def csr_path(self, request: SigningRequest) -> Path:
        return self.csr_dir / f"{safe_name(request.node)}.csr"

    def signed_path(self, request: SigningRequest) -> Path:
        return self.signed_dir / f"{safe_name(request.node)}.pem"

    def signed_certificate(self, request: SigningRequest) -> str | None:
        self.csr_dir.mkdir(parents=True, exist_ok=True)
        csr_path = self.csr_path(request)
        if not csr_path.exists() or csr_path.read_text(encoding="ascii") != request.csr_pem:
            csr_path.write_text(request.csr_pem, encoding="ascii")
        signed = self.signed_path(request)
        return signed.read_text(encoding="ascii") if signed.exists() else None


class ManualCaAdapter:
    name = "manual"

    def __init__(self, provider: CertificateProvider) -> None:
        self.provider = provider

    def sign(self, request: SigningRequest) -> SignedCertificate | None:
        pem = self.provider.signed_certificate(request)
        if pem is None:
            return None
        return from_bundle(request, pem)
