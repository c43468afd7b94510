"""The reports name what enforces and proves each control from the objects the run binds (CPU only)."""

from __future__ import annotations

from datetime import UTC, datetime

from securemode.flows.pipeline import build_report
from securemode.outcome import StageOutcome
from securemode.reports.hdf import hdf_document
from securemode.reports.model import Report
from securemode.results import Result, Status


def _result(control: str) -> Result:
    return Result(control=control, target="mgr", status=Status.PASS, started_at=datetime.now(UTC))


def test_a_run_report_names_the_bound_fix_and_verifiers() -> None:
    report = build_report("lab", [StageOutcome(stage="pki", applied=False, results=[_result("pki.tls10-refused"),
                                                                                     _result("pki.trusted-ca")])])
    refused, trusted = report.info("pki.tls10-refused"), report.info("pki.trusted-ca")
    assert refused.bound and refused.fix is None  # verify only: the bootstrap wizard sets it
    assert refused.verified_by == ["securemode.verifiers.tls.checks.check_protocol_refused"]
    assert trusted.fix is not None and trusted.fix.startswith("securemode.tasks.pki.")
    controls = {c["id"]: c for c in hdf_document(report)["profiles"][0]["controls"]}
    described = str(controls["pki.tls10-refused"]["descriptions"])
    assert refused.verified_by[0] in described


def test_a_report_read_without_the_stages_says_unknown_rather_than_guessing() -> None:
    report = Report(site="lab", generated_at=datetime.now(UTC), stages=["pki"], results=[_result("pki.trusted-ca")])
    assert not report.info("pki.trusted-ca").bound
    controls = {c["id"]: c for c in hdf_document(report)["profiles"][0]["controls"]}
    assert "unknown" in str(controls["pki.trusted-ca"]["descriptions"])
