"""The lab CA's OCSP responder, asked over HTTP the way the twin asks it: GOOD for a certificate the CA issued,
REVOKED once the lab CA adapter revoked it, unauthorized for another CA's certificate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securemode.ca_adapters.lab import LabCaAdapter
from securemode.infra.pki.ca import LabCA
from securemode.infra.services import ocsp
from securemode.infra.services.process import ServiceHandle, free_port
from securemode.infra.twin import ocsp_check

ADDRESS = "127.0.0.1"


@pytest.fixture
def responder(tmp_path: Path) -> Iterator[tuple[LabCA, ServiceHandle]]:
    ca = LabCA.create(tmp_path / "ca")
    handle = ocsp.start(tmp_path / "ocsp", ca.directory, ADDRESS, free_port(ADDRESS, ("tcp",)))
    try:
        yield ca, handle
    finally:
        handle.stop()


def _settings(handle: ServiceHandle) -> dict[str, str]:
    host, port = handle.endpoints["ocsp"]
    return {"ocsp_state": "OVERRIDE", "ocsp_responder_url": f"http://{host}:{port}/"}


def _der(path: Path) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER)


def test_a_certificate_reads_revoked_once_the_ca_revoked_it(responder: tuple[LabCA, ServiceHandle]) -> None:
    ca, handle = responder
    issued = ca.issue_client("lab-admin")
    (ca.directory / "signed").mkdir(exist_ok=True)  # the responder answers for what the CA keeps as issued
    (ca.directory / "signed" / f"{issued.certificate().serial_number:x}.pem").write_bytes(issued.cert_path.read_bytes())
    trusted = ca.chain_path.read_text()
    assert not ocsp_check.revoked(_der(issued.cert_path), _settings(handle), trusted)
    LabCaAdapter(ca.directory).revoke(issued.cert_path.read_text(), "compromise")
    assert ocsp_check.revoked(_der(issued.cert_path), _settings(handle), trusted)
    assert not ocsp_check.revoked(_der(issued.cert_path), {"ocsp_state": "OFF"}, trusted)  # OCSP off: not asked


def test_another_cas_certificate_is_not_answered_for(responder: tuple[LabCA, ServiceHandle], tmp_path: Path) -> None:
    _, handle = responder
    other = LabCA.create(tmp_path / "other", name="another")
    foreign = other.issue_client("lab-admin")
    assert not ocsp_check.revoked(_der(foreign.cert_path), _settings(handle), other.chain_path.read_text())
