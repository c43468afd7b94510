"""Reports: JSON with a committed schema, JUnit that keeps ERROR apart from FAIL, and an HTML page a reader
can read (checked in headless Chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from securemode.reports import Report, write_reports
from securemode.reports.json_report import SCHEMA_PATH, read_report, report_schema
from securemode.results import Status
from tests.unit.results_factory import T0, result


def sample_report() -> Report:
    return Report(site="lab", generated_at=T0, stages=["host", "platform"], results=[
        result("host.stig.ESXI-80-000193", "esxi01", Status.PASS, observed={"running": False, "policy": "off"}),
        result("host.stig.ESXI-80-000008", "esxi01", Status.ERROR, message="host not reachable"),
        result("platform.snmp.v2c-refused", "conf01", Status.FAIL, message="v2c answered with community public",
               observed="sysName=conf01", transcript=["GET sysName.0 community=public", "-> conf01"]),
        result("platform.location.mtu", "Oslo", Status.WAIVED, message="waived"),
        result("platform.ipv6", "conf01", Status.NOT_APPLICABLE, message="no IPv6 in the site"),
    ])


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads(SCHEMA_PATH.read_text())
    assert committed == report_schema(), "regenerate with: securemode report --write-schema (schema drifted)"


def test_json_round_trip_and_version(tmp_path: Path) -> None:
    paths = write_reports(sample_report(), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["format_version"] == "1.0"
    assert read_report(paths["json"]) == sample_report()


def test_junit_keeps_error_apart_from_failure(tmp_path: Path) -> None:
    root = ET.parse(write_reports(sample_report(), tmp_path)["junit"]).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert (suites["host"].get("errors"), suites["host"].get("failures")) == ("1", "0")
    assert (suites["platform"].get("failures"), suites["platform"].get("errors")) == ("1", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == 5
    assert cases["host.stig.ESXI-80-000008 [esxi01]"].find("error") is not None
    assert cases["platform.snmp.v2c-refused [conf01]"].find("failure") is not None
    assert cases["platform.location.mtu [Oslo]"].find("skipped") is not None


def test_report_compliance() -> None:
    report = sample_report()
    assert not report.compliant()
    assert report.counts()[Status.FAIL] == 1
    passing = report.model_copy(update={"results": [r for r in report.results if r.status not in
                                                    {Status.FAIL, Status.ERROR}]})
    assert passing.compliant()


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                    reason="needs Debian's chromium and poppler-utils (bin/setup installs them)")
def test_html_shows_counts_and_failing_evidence_to_a_reader(tmp_path: Path) -> None:
    html = write_reports(sample_report(), tmp_path)["html"]
    pdf = tmp_path / "report.pdf"
    profile = tmp_path / "chromium-profile"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    seen = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    words = " ".join(seen.split())
    # Table cells wrap (and pdftotext drops the hyphen of a wrapped word): compare without either.
    packed = "".join(seen.split()).replace("-", "")
    assert "NOT COMPLIANT" in words
    for label in ("PASS: 1", "FAIL: 1", "ERROR: 1", "WAIVED: 1", "NOT_APPLICABLE: 1", "MANUAL: 0"):
        assert label in words, label
    # The failing control's evidence is open on the page, not hidden behind a click.
    assert "v2cansweredwithcommunitypublic" in packed
    assert "GETsysName.0community=public" in packed
    # Only the FAIL and ERROR rows show their evidence; the PASS row's stays folded.
    assert packed.count("started20261127T12:00:00+00:00") == 2
