"""The pipeline on a real Prefect server: plan writes nothing, run applies then verifies, gates hold,
failures stop the pipeline, transient errors retry, artifacts and reports are written, secrets never leak."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from securemode.flows.pipeline import run_pipeline
from securemode.flows.reverify import DRIFT_EVENT, run_reverify
from securemode.paths import prefect_home, state_dir
from securemode.results import Status
from tests.pipeline import device_stage
from tests.prefect_http import api_http
from tests.unit.sites import SECRET_ENV

pytestmark = pytest.mark.usefixtures("prefect_api")


def device(site: Path) -> dict[str, object]:
    path = site.parent / "device.json"
    return json.loads(path.read_text()) if path.exists() else {}


def run(site: Path, mode: str = "run", **kw: object) -> object:
    return run_pipeline(site_path=str(site), stage_names=["host", "vms"], mode=mode, **kw)


def test_plan_changes_nothing_and_lists_the_diff(site: Path) -> None:
    outcome = run(site, mode="plan")
    assert device(site) == {}
    host = outcome.stages[0]
    assert sorted(c.setting for c in host.changes) == ["Security.AccountLockFailures", "UserVars.DcuiTimeOut",
                                                       "lockdown"]
    assert not any(c.applied for c in host.changes)
    assert host.results == []


def test_run_without_approval_skips_the_gated_step_and_stops(site: Path, tmp_path: Path) -> None:
    outcome = run(site, report_dir=str(tmp_path / "r1"))
    assert device(site) == {"Security.AccountLockFailures": 3, "UserVars.DcuiTimeOut": 600}
    assert outcome.stopped_at == "host"
    assert "host.stig.ESXI-80-000008 [device] FAIL" in outcome.problems[0]
    assert "vms.bios.supervisor-password [device] MANUAL" in outcome.problems[0]
    assert [s.stage for s in outcome.stages] == ["host"]  # the next stage never started
    assert any("host.lockdown: not approved" in s for s in outcome.stages[0].skipped)


def test_approved_and_attested_run_passes_records_both_and_second_run_changes_nothing(site: Path,
                                                                                     tmp_path: Path) -> None:
    outcome = run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"], approver="alice",
                  report_dir=str(tmp_path / "r"))
    assert outcome.compliant(), outcome.problems
    assert device(site)["lockdown"] == "lockdownNormal"
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [a["step"] for a in report["approvals"]] == ["host.lockdown"]
    assert report["approvals"][0]["who"] == "alice"
    assert [a["control"] for a in report["attestations"]] == ["vms.bios.supervisor-password"]
    again = run(site, report_dir=str(tmp_path / "r2"))  # no approvals needed any more, attestation remembered
    assert again.compliant(), again.problems
    assert [c for s in again.stages for c in s.changes] == []


def test_error_stops_unless_allowed(site: Path, tmp_path: Path) -> None:
    run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"])
    state = device(site)
    (site.parent / "device.json").write_text(json.dumps({**state, "unreadable": True}))
    outcome = run(site, mode="verify")
    assert not outcome.compliant()
    assert "host.stig.ESXI-80-000005 [device] ERROR" in outcome.problems[0]
    assert [s.stage for s in outcome.stages] == ["host", "vms"]  # verify checks every stage
    doc = yaml.safe_load(site.read_text())
    doc["allow_error"] = ["host.stig.ESXI-80-000005", "host.stig.ESXI-80-000196"]
    site.write_text(yaml.safe_dump(doc))
    assert run(site, mode="verify").compliant()


def test_transient_errors_are_retried(site: Path) -> None:
    device_stage.FLAKY_BUDGET["left"] = 2
    outcome = run(site, mode="plan")
    assert device_stage.FLAKY_BUDGET["left"] == 0
    assert len(outcome.stages[0].changes) == 3


def test_artifacts_reach_the_prefect_ui(site: Path, prefect_api: str) -> None:
    run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"])
    name = yaml.safe_load(site.read_text())["name"]
    resp = api_http.post(f"{prefect_api}/artifacts/latest/filter", json={"artifacts": {"key": {"like_": name}}})
    keys = {a["key"] for a in resp.json()}
    assert {f"{name}-host-results", f"{name}-host-summary", f"{name}-vms-results"} <= keys
    table = next(a for a in resp.json() if a["key"] == f"{name}-host-results")
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert {"control": "host.stig.ESXI-80-000008", "target": "device", "result": "PASS",
            "expected": '"lockdownNormal"', "observed": '"lockdownNormal"'} in rows


def test_reverify_reports_drift_and_raises_an_event(site: Path, prefect_api: str) -> None:
    run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"])
    first = run_reverify(site_path=str(site), stage_names=["host", "vms"])
    assert first.drift == []
    state = device(site)
    (site.parent / "device.json").write_text(json.dumps({**state, "UserVars.DcuiTimeOut": 0}))
    second = run_reverify(site_path=str(site), stage_names=["host", "vms"])
    assert [(d.control, d.before, d.now) for d in second.drift] == [
        ("host.stig.ESXI-80-000196", Status.PASS, Status.FAIL)]
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    name = yaml.safe_load(site.read_text())["name"]
    query = {"filter": {"event": {"name": [DRIFT_EVENT]}, "resource": {"id": [f"securemode.site.{name}"]}}}
    deadline = time.monotonic() + 30  # the server stores events asynchronously
    events: list[dict[str, Any]] = []
    while not events and time.monotonic() < deadline:
        events = api_http.post(f"{prefect_api}/events/filter", json=query).json()["events"]
        if not events:
            time.sleep(0.5)
    assert events and events[0]["payload"]["drift"][0]["control"] == "host.stig.ESXI-80-000196"


def test_secrets_never_reach_logs_parameters_artifacts_reports_or_the_database(site: Path, tmp_path: Path) -> None:
    run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"], report_dir=str(tmp_path / "rep"))
    secrets = list(SECRET_ENV.values())
    found = []
    db = prefect_home() / "prefect.db"
    with sqlite3.connect(db) as conn:  # flush the WAL into the main file before scanning bytes
        conn.execute("PRAGMA wal_checkpoint(FULL)")
        logs = [row[0] for row in conn.execute("SELECT message FROM log")]
        params = [row[0] for row in conn.execute("SELECT parameters FROM flow_run")]
    assert any("connecting with password ***" in m for m in logs), "the careless log line is stored, redacted"
    blobs = {"prefect.db": db.read_bytes(), "params": json.dumps(params).encode()}
    for folder in (tmp_path / "rep", state_dir()):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                blobs[str(path)] = path.read_bytes()
    for name, blob in blobs.items():
        found += [(name, s) for s in secrets if s.encode() in blob]
    assert found == []
    assert os.environ["SM_VSPHERE_PASSWORD"] not in json.dumps(logs)


def test_a_verify_that_checked_no_control_is_not_compliant(site: Path, tmp_path: Path) -> None:
    run(site, approve=["host.lockdown"], attest=["vms.bios.supervisor-password"], approver="alice")
    outcome = run(site, mode="verify", controls=["platform.snmp.v3"], report_dir=str(tmp_path / "r"))
    assert [r for s in outcome.stages for r in s.results] == []
    assert not outcome.compliant()
    assert any("no control was checked" in p for p in outcome.problems)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["results"] == [] and report["coverage"]["checked"] == 0
    assert "NOTHING CHECKED" in (tmp_path / "r" / "report.html").read_text()


def _stage_states(prefect_api: str, parent: object) -> dict[str, dict[str, Any]]:
    query = {"flow_runs": {"parent_flow_run_id": {"any_": [str(parent)]}}}
    return {r["name"]: r["state"] for r in api_http.post(f"{prefect_api}/flow_runs/filter", json=query).json()}


def test_run_states_tell_the_truth(site: Path, prefect_api: str) -> None:
    from securemode.flows.pipeline import secure_mode_deployment
    from securemode.flows.reverify import reverify

    unapproved = secure_mode_deployment(site_path=str(site), stage_names=["host", "vms"], mode="run",
                                        return_state=True)
    assert unapproved.is_failed()
    assert unapproved.message == ("not compliant (stopped at host): stage host: FAIL: host.stig.ESXI-80-000008 "
                                  "[device]; MANUAL (not attested): vms.bios.supervisor-password [device]")
    host = _stage_states(prefect_api, unapproved.state_details.flow_run_id)["host"]
    assert host["type"] == "FAILED"
    assert host["message"].startswith("stage host: FAIL: host.stig.ESXI-80-000008 [device]; MANUAL")
    assert "; skipped host.lockdown: not approved" in host["message"]

    done = secure_mode_deployment(site_path=str(site), stage_names=["host", "vms"], approve=["host.lockdown"],
                                  attest=["vms.bios.supervisor-password"], return_state=True)
    assert done.is_completed(), done.message
    assert {s["type"] for s in _stage_states(prefect_api, done.state_details.flow_run_id).values()} == {"COMPLETED"}

    assert run_reverify(site_path=str(site), stage_names=["host", "vms"]).drift == []
    state = device(site)
    (site.parent / "device.json").write_text(json.dumps({**state, "UserVars.DcuiTimeOut": 0, "unreadable": False}))
    drifted = reverify(site_path=str(site), stage_names=["host", "vms"], return_state=True)
    assert drifted.is_failed()
    assert drifted.message == ("drift: host.stig.ESXI-80-000196 [device] PASS→FAIL; "
                               "FAIL: host.stig.ESXI-80-000196 [device]")

    (site.parent / "device.json").write_text(json.dumps({**state, "lockdown": "off", "unreadable": True}))
    verified = secure_mode_deployment(site_path=str(site), stage_names=["host"], mode="verify", return_state=True)
    assert verified.is_failed()
    assert verified.message == ("not compliant: stage host: FAIL: host.stig.ESXI-80-000008 [device]; "
                                "ERROR: host.stig.ESXI-80-000005 [device], host.stig.ESXI-80-000196 [device]")


def _logs(prefect_api: str, flow_run_ids: list[str]) -> list[dict[str, Any]]:
    query = {"logs": {"flow_run_id": {"any_": flow_run_ids}}, "limit": 200}
    deadline = time.monotonic() + 20  # logs reach the API in batches
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = api_http.post(f"{prefect_api}/logs/filter", json=query).json()
        if any(line["message"].startswith("attested vms.bios") for line in found):  # the stage's last line
            break
        time.sleep(0.5)
    return found


def test_every_change_verdict_and_approval_is_a_log_line_at_its_task(site: Path, prefect_api: str) -> None:
    from securemode.flows.pipeline import secure_mode_deployment

    state = secure_mode_deployment(site_path=str(site), stage_names=["host"], approve=["host.lockdown"],
                                   attest=["vms.bios.supervisor-password"], approver="alice", return_state=True)
    parent = state.state_details.flow_run_id
    host = api_http.post(f"{prefect_api}/flow_runs/filter",
                      json={"flow_runs": {"parent_flow_run_id": {"any_": [str(parent)]}}}).json()[0]["id"]
    lines = _logs(prefect_api, [str(parent), host])
    tasks = {t["id"]: t["name"] for t in api_http.post(f"{prefect_api}/task_runs/filter", json={
        "flow_runs": {"id": {"any_": [host]}}}).json()}
    by_message = {line["message"]: line for line in lines}
    change = by_message["host.stig.ESXI-80-000196 [device] UserVars.DcuiTimeOut: None → 600 (changed)"]
    assert tasks[change["task_run_id"]] == "host/options:apply"
    lockdown = by_message["host.stig.ESXI-80-000008 [device] lockdown: None → 'lockdownNormal' (changed)"]
    assert tasks[lockdown["task_run_id"]] == "host/lockdown:apply"
    approval = by_message["approved host.lockdown by alice (pre-approved)"]
    assert approval["flow_run_id"] == host and approval["task_run_id"] is None
    holding = 'PASS host.stig.ESXI-80-000008 [device] expected "lockdownNormal", observed "lockdownNormal"'
    verdict = next(line for line in lines if holding in line["message"].splitlines())  # those that hold: one record
    assert tasks[verdict["task_run_id"]] == "host/verify"
    assert not [line for line in lines if any(secret in line["message"] for secret in SECRET_ENV.values())]

    (site.parent / "device.json").write_text(json.dumps({**device(site), "UserVars.DcuiTimeOut": 0}))
    failed = secure_mode_deployment(site_path=str(site), stage_names=["host"], mode="verify", return_state=True)
    child = api_http.post(f"{prefect_api}/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {
        "any_": [str(failed.state_details.flow_run_id)]}}}).json()[0]["id"]
    deadline = time.monotonic() + 20
    warnings: list[dict[str, Any]] = []
    while not warnings and time.monotonic() < deadline:
        warnings = [line for line in _logs(prefect_api, [child]) if line["level"] == 30]
        time.sleep(0.5)
    assert [w["message"] for w in warnings] == [
        "FAIL host.stig.ESXI-80-000196 [device] expected 600, observed 0: UserVars.DcuiTimeOut differs"]
