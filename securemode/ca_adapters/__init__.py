"""CA adapters: how a node's CSR becomes a signed certificate (``site.pki.ca_adapter``)."""

from __future__ import annotations

from securemode.ca_adapters.base import (
    CaAdapter,
    RevokingCaAdapter,
    SignedCertificate,
    SignedCertificateProblem,
    SigningRequest,
)
from securemode.ca_adapters.lab import LabCaAdapter
from securemode.ca_adapters.manual import CertificateProvider, FolderProvider, ManualCaAdapter
from securemode.pexip.state import subdir
from securemode.problems import InputError, Problem
from securemode.site_loader import LoadedSite


def adapter_for(loaded: LoadedSite, provider: CertificateProvider | None = None) -> CaAdapter:
    """The adapter the site names; ``provider`` overrides the manual adapter's folder exchange."""
    pki = loaded.site.pki
    if pki.ca_adapter == "lab":
        if not pki.ca_dir:
            raise InputError(str(loaded.path), [Problem(field="pki.ca_dir", message="is required for ca_adapter lab",
                                                        fix="give the lab CA's directory")])
        ca_dir = loaded.resolve_path(pki.ca_dir)
        try:
            return LabCaAdapter(ca_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(str(loaded.path), [Problem(field="pki.ca_dir", message=f"no usable lab CA: {exc}",
                                                        fix="run `securemode lab up` or correct the path")]) from None
    return ManualCaAdapter(provider or FolderProvider(subdir(loaded, "csr"), subdir(loaded, "signed")))


__all__ = [
    "CaAdapter",
    "CertificateProvider",
    "FolderProvider",
    "LabCaAdapter",
    "ManualCaAdapter",
    "RevokingCaAdapter",
    "SignedCertificate",
    "SignedCertificateProblem",
    "SigningRequest",
    "adapter_for",
]
