"""Our HDF, read by MITRE's own tools: the SAF CLI and Heimdall Lite count what we count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from securemode.reports import Report
from securemode.reports.hdf import ControlStatus, control_counts, render_hdf
from tests.assessor import tools
from tests.assessor.reports import COMPLIANT_EXPECTED, MIXED_EXPECTED, compliant_report, mixed_report

RUNS = {"compliant": (compliant_report, COMPLIANT_EXPECTED), "mixed": (mixed_report, MIXED_EXPECTED)}


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    tools.ensure_installed()


def write_hdf(report: Report, folder: Path) -> Path:
    path = folder / "securemode.hdf.json"
    path.write_text(render_hdf(report), encoding="utf-8")
    return path


@pytest.mark.parametrize("run", sorted(RUNS))
def test_saf_cli_counts_equal_ours(run: str, tmp_path: Path) -> None:
    build, expected = RUNS[run]
    report = build()
    ours = {status.value: n for status, n in control_counts(report).items()}
    assert ours == expected
    summary = tools.saf_summary(write_hdf(report, tmp_path))
    assert summary == {tools.SUMMARY_KEYS[status]: n for status, n in expected.items()}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_heimdall_lite_shows_our_counts(run: str, tmp_path: Path) -> None:
    build, expected = RUNS[run]
    shot = tmp_path / "heimdall.png"
    assert tools.heimdall_counts(write_hdf(build(), tmp_path), tmp_path, screenshot=shot) == expected
    assert shot.stat().st_size > 10_000


def test_statuses_are_mapped_honestly() -> None:
    doc = json.loads(render_hdf(mixed_report()))
    controls = {c["id"]: c for c in doc["profiles"][0]["controls"]}
    error = controls["host.stig.ESXI-80-000008"]
    assert [r["status"] for r in error["results"]] == ["error"]
    assert "host not reachable" in error["results"][0]["message"]
    manual = controls["contingency.licence-transfer"]["results"][0]
    assert manual["status"] == "skipped" and "attestation" in manual["skip_message"]
    bios = {r["resource"]: r for r in controls["vms.bios.supervisor-password"]["results"]}
    assert bios["mgr01"]["status"] == "passed" and "attested by A. Admin" in bios["mgr01"]["code_desc"]
    assert bios["conf01"]["status"] == "skipped"
    waiver = controls["platform.location.mtu"]["waiver_data"]
    assert waiver["skipped_due_to_waiver"] is True and waiver["expiration_date"] == "2027-02-25"
    assert "WAN carrier" in waiver["justification"] and "ISSO J. Doe" in waiver["justification"]
    failed = controls["host.stig.ESXI-80-000193"]
    assert failed["tags"]["gid"] == "V-258754" and failed["tags"]["cci"][0] == "CCI-000381"
    assert "serviceInfo TSM-SSH running=True" in failed["results"][0]["message"]
    assert controls["host.stig.ESXI-80-000217"]["impact"] == 0.7  # CAT I
    assert controls["platform.ipv6"]["impact"] == 0.0


def test_a_partly_waived_control_still_fails() -> None:
    report = mixed_report()
    extra = report.results[1].model_copy(update={"control": "platform.location.mtu", "target": "Tromso"})
    report = report.model_copy(update={"results": [*report.results, extra]})
    assert control_counts(report)[ControlStatus.FAILED] == MIXED_EXPECTED["Failed"] + 1
    mtu = next(c for c in json.loads(render_hdf(report))["profiles"][0]["controls"] if c["id"] ==
               "platform.location.mtu")
    assert mtu["waiver_data"]["skipped_due_to_waiver"] is False
