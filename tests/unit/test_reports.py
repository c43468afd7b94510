"""Reports: JSON with a committed schema, JUnit that keeps ERROR apart from FAIL, and an HTML page a reader
can read (checked in headless Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from securemode.catalogue import CONTROLS, Stage
from securemode.reports import Report, render_html, render_json, write_reports
from securemode.reports.history import load_history, point_of, write_point
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
    data = json.loads(paths["report.json"].read_text())
    assert data["format_version"] == "1.0"
    assert read_report(paths["report.json"]) == sample_report()


def test_junit_keeps_error_apart_from_failure(tmp_path: Path) -> None:
    root = ET.parse(write_reports(sample_report(), tmp_path)["junit.xml"]).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert (suites["host"].get("errors"), suites["host"].get("failures")) == ("1", "0")
    assert (suites["platform"].get("failures"), suites["platform"].get("errors")) == ("1", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == 5
    assert cases["host.stig.ESXI-80-000008 [esxi01]"].find("error") is not None
    assert cases["platform.snmp.v2c-refused [conf01]"].find("failure") is not None
    assert cases["platform.location.mtu [Oslo]"].find("skipped") is not None
    # Classnames are the control ids (the stage is their first part already), with the assessor's facts.
    lockdown = cases["host.stig.ESXI-80-000008 [esxi01]"]
    assert lockdown.get("classname") == "host.stig.ESXI-80-000008"
    facts = {p.get("name"): p.get("value") for p in lockdown.iter("property")}
    assert facts["vuln_id"] == "V-258730" and facts["nist"] == "AC-10" and facts["severity"] == "medium"
    assert facts["section"] == "Securing the host environment"


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
    html = write_reports(sample_report(), tmp_path)["report.html"]
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


def test_nothing_checked_is_never_compliant() -> None:
    empty = Report(site="lab", generated_at=T0, stages=["host"], results=[])
    assert not empty.compliant()
    assert empty.verdict() == "NOTHING CHECKED"
    assert "NOTHING CHECKED" in render_html(empty)


def test_partial_catalogue_verdict_names_what_was_not_checked() -> None:
    report = Report(site="lab", generated_at=T0, stages=["host"], results=[
        result("host.pnics.count", "esxi01", Status.PASS, observed=2)])
    assert report.compliant()
    assert report.verdict() == "COMPLIANT FOR THE STAGES RUN"
    assert report.coverage is not None
    assert report.coverage.checked == 1 and report.coverage.catalogue == len(CONTROLS)
    assert "contingency.powered-off" in report.coverage.not_checked
    assert "host.pnics.count" not in report.coverage.not_checked
    page = render_html(report)
    assert f"Controls checked: <b>1 of {len(CONTROLS)}</b>" in page
    assert "<code>contingency.powered-off</code>" in page
    every = Report(site="lab", generated_at=T0, stages=[s.value for s in Stage], results=[
        result(c.id, "t", Status.PASS) for c in CONTROLS])
    assert every.verdict() == "COMPLIANT"
    # The JSON carries the coverage and the catalogue facts an assessor needs.
    data = json.loads(render_json(report))
    assert data["coverage"]["checked"] == 1
    assert data["controls"]["host.pnics.count"]["section"] == "Securing the host environment"


def test_html_puts_problems_first_and_names_section_and_severity_on_every_row() -> None:
    page = render_html(sample_report())
    failures, decisions, stages = (page.index("Failures and errors (2)"),
                                   page.index("Approvals, attestations and waivers"), page.index("Every stage"))
    assert failures < decisions < stages
    rows = re.findall(r"<tr class='result'.*?</tr>", page, flags=re.S)
    assert len(rows) == 2 + len(sample_report().results)  # problems again in their stage tables
    sections = ("Securing the host environment", "SNMP", "Location DSCP tags and MTU", "IPv6 (optional)")
    for row in rows:
        assert re.search(r"class='sev-(high|medium|low)'", row), row
        assert any(f"<td>{section}" in row for section in sections), row
    assert "ESXI-80-000008 V-258730" in page
    assert page.count("<details class='stage'") == 2 and "<details class='stage' open" not in page


def test_compliance_chart_comes_from_the_history() -> None:
    runs = []
    for day, status in enumerate([Status.PASS, Status.FAIL, Status.PASS]):
        runs.append(Report(site="lab", generated_at=T0 + timedelta(days=day), stages=["host"], results=[
            result("host.pnics.count", "esxi01", Status.PASS), result("host.pnics.separate", "esxi01", status)]))
    page = render_html(runs[-1], [point_of(run) for run in runs])
    chart = page[page.index("<svg id='compliance-chart'"):page.index("</svg>")]
    points = re.search(r"points='([^']+)'", chart).group(1).split()  # type: ignore[union-attr]
    ys = [float(p.split(",")[1]) for p in points]
    assert len(ys) == 3 and ys[0] == ys[2] < ys[1]  # 100 %, 50 %, 100 % (higher score = smaller y)
    assert chart.count("fill='#b00020'") == 1  # the failing run's dot
    assert "http" not in chart.replace("http://www.w3.org/2000/svg", "")


def test_history_reads_each_runs_summary_and_summarises_older_runs(tmp_path: Path) -> None:
    """The chart's history comes from each run's one-line summary; a run recorded before summaries
    existed (its report only) is summarised from its report; 'last' is a copy and not a run."""
    old = Report(site="lab", generated_at=T0, stages=["host"], results=[
        result("host.pnics.count", "esxi01", Status.PASS), result("host.pnics.separate", "esxi01", Status.FAIL)])
    new = Report(site="lab", generated_at=T0 + timedelta(days=1), stages=["host"], results=[
        result("host.pnics.count", "esxi01", Status.PASS), result("host.pnics.separate", "esxi01", Status.PASS)])
    write_reports(old, tmp_path / "20261201T000000Z", ["json"])
    write_point(new, tmp_path / "20261202T000000Z")
    write_reports(new, tmp_path / "last", ["json"])
    points = load_history(tmp_path)
    assert [(p.generated_at, p.score, p.compliant) for p in points] == [
        (old.generated_at, 50.0, False), (new.generated_at, 100.0, True)]
    assert not (tmp_path / "20261201T000000Z" / "point.json").exists()  # reading writes nothing


def test_html_lists_attestations_and_waivers_carried_by_results() -> None:
    from tests.assessor.reports import mixed_report

    page = render_html(mixed_report())
    decisions = page[page.index("Approvals, attestations and waivers"):page.index("Every stage")]
    assert "Attestation of <code>vms.bios.supervisor-password</code> [mgr01] by A. Admin" in decisions
    assert "Waiver of <code>platform.location.mtu</code> [Oslo]: WAN carrier fixes MTU at 1500" in decisions
    assert "approved by ISSO J. Doe" in decisions
