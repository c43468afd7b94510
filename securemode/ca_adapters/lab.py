"""The lab CA adapter: signs with the issuing CA kept in ``site.pki.ca_dir`` (the lab creates it there)."""

from __future__ import annotations

from pathlib import Path

from securemode.ca_adapters.base import SignedCertificate, SigningRequest, from_bundle
from securemode.ca_adapters.issuing_ca import IssuingCA


class LabCaAdapter:
    """Signs at once; the chain handed back is the lab's intermediate."""

    name = "lab"

    def __init__(self, ca_dir: Path, valid_days: int = 365) -> None:
        self._ca = IssuingCA.load(ca_dir)
        self.valid_days = valid_days

    def sign(self, request: SigningRequest) -> SignedCertificate | None:
        leaf = self._ca.sign_csr(request.csr_pem.encode(), valid_days=self.valid_days,
                                 client_auth=request.client_auth).decode()
        chain = self._ca.intermediate_path.read_text(encoding="ascii")
        return from_bundle(request, leaf + chain)
