"""The manual CA adapter: the stage hands out the CSR and waits without changing the node; when the
signed certificate is handed back it completes the CSR on the node and assigns it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.ca_adapters import SigningRequest
from securemode.catalogue import Stage
from securemode.engine import EngineContext
from securemode.flows.stages import load
from securemode.pexip.state import site_dir
from tests.stage_steps import run_steps
from tests.stages_pki_platform.lab import Lab, start_lab

PKI = load(Stage.PKI)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Lab]:
    started = start_lab(tmp_path_factory.mktemp("lab-manual"), ca_adapter="manual", ca_dir=None)
    yield started
    started.twin.stop()


def test_folder_exchange_waits_then_installs(lab: Lab) -> None:
    self_signed = lab.twin.fingerprint_sha256()
    first = run_steps(PKI, lab.loaded, apply=True)
    changes = first.changes
    cert_changes = [c for c in changes if c.control == "pki.cert.trusted"]
    assert len(cert_changes) == 3 and not any(c.applied for c in cert_changes)
    assert len(first.ctx.skipped) == 3 and all("waiting for the signed certificate" in s for s in first.ctx.skipped)
    assert lab.twin.fingerprint_sha256() == self_signed
    csr_dir, signed_dir = site_dir(lab.loaded) / "csr", site_dir(lab.loaded) / "signed"
    for csr in sorted(csr_dir.glob("*.csr")):
        leaf = lab.ca.sign_csr(csr.read_bytes()).decode()
        (signed_dir / f"{csr.stem}.pem").write_text(leaf + lab.ca.intermediate_path.read_text())
    with lab.side_api() as api:  # the pending CSRs are reused, not made again
        assert len(list(api.iter_objects("certificate_signing_request"))) == 3
    second = run_steps(PKI, lab.loaded, apply=True)
    changes = second.changes
    assert second.ctx.skipped == [] and all(c.applied for c in changes if c.control == "pki.cert.trusted")
    assert lab.twin.fingerprint_sha256() != self_signed
    with lab.side_api() as api:
        assert list(api.iter_objects("certificate_signing_request")) == []


def test_gate_can_provide_the_certificate(tmp_path: Path, state_dir: Path) -> None:
    """A gate that implements signed_certificate (the Prefect pause-for-input) is asked instead."""
    other = start_lab(tmp_path, ca_adapter="manual", ca_dir=None)
    asked: list[str] = []

    class Gate:
        def approve(self, step: str, summary: str) -> None:
            return None

        def attest(self, control: str, target: str, question: str) -> None:
            return None

        def signed_certificate(self, request: SigningRequest) -> str | None:
            asked.append(request.node)
            return other.ca.sign_csr(request.csr_pem.encode()).decode() + other.ca.intermediate_path.read_text()

    try:
        ctx = EngineContext(site=other.loaded, apply=True, gate=Gate())
        step = next(s for s in PKI.steps if s.name == "node-certificates")
        changes = step.run(ctx)
        assert sorted(asked) == ["conf01", "conf02", "mgr01"]
        assert all(c.applied for c in changes) and ctx.skipped == []
        assert step.run(EngineContext(site=other.loaded, apply=True, gate=Gate())) == []
    finally:
        other.twin.stop()
