"""An administrator's client certificate through the manual CA: the first run writes the CSR and keeps its
key aside (owner-only) and defers; once a person has signed it, the next run keeps certificate and key."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securemode.ca_adapters import FolderProvider, ManualCaAdapter
from securemode.ca_adapters.issuing_ca import IssuingCA
from securemode.engine import Deferred
from securemode.infra.pki.ca import LabCA
from securemode.site import Administrator, ClientCertificateMode, Role
from securemode.tasks.auth.client_certificates import ClientCredential, identity_in, issue, pending_key


def test_the_manual_ca_defers_then_the_signed_certificate_is_kept(tmp_path: Path) -> None:
    ca = LabCA.create(tmp_path / "ca")
    provider = FolderProvider(tmp_path / "csr", tmp_path / "signed")
    adapter = ManualCaAdapter(provider)
    admin = Administrator(username="alice", upn="alice@example.test", role=Role.READ_WRITE)
    cred = ClientCredential("alice", tmp_path / "state" / "alice.pem", tmp_path / "state" / "alice.key")

    first = issue(adapter, admin, ClientCertificateMode.UPN, cred)
    assert isinstance(first, Deferred) and "alice" in first.reason
    assert stat.S_IMODE(pending_key(cred).stat().st_mode) == 0o600 and not cred.exists()
    csrs = list((tmp_path / "csr").iterdir())
    assert len(csrs) == 1

    signed = IssuingCA.load(ca.directory).sign_csr(csrs[0].read_bytes(), client_auth=True)
    (tmp_path / "signed").mkdir(exist_ok=True)
    (tmp_path / "signed" / csrs[0].with_suffix(".pem").name).write_bytes(signed)
    assert issue(adapter, admin, ClientCertificateMode.UPN, cred) is None
    assert cred.exists() and not pending_key(cred).exists()
    cert = x509.load_pem_x509_certificate(cred.certificate.read_bytes())
    key = serialization.load_pem_private_key(cred.key.read_bytes(), password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)
    assert identity_in(cert, ClientCertificateMode.UPN) == "alice@example.test"
