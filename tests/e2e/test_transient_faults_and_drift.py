"""Transient faults and write-only drift, end to end on a lab of this module's own.

* With 20 % of every twin request answered 503, the pipeline converges (exit 0) within three runs, and
  no web session is left open afterwards — the twin's own session table says so.
* An SNMPv3 authentication password changed behind the engine's back: verify FAILs on that node, which
  withdraws the ledger's belief, so plan shows the rewrite, run repairs it, and verify PASSes again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from securemode.catalogue import Stage
from securemode.flows import stages
from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.twin.faults import FaultInjector, unavailable
from securemode.pexip.connect import management_api
from securemode.results import Status
from tests.e2e.pipeline_runs import NODE_PULL_S, SharedLab, run
from tests.polling import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def twin_state_dir(lab: RunningLab) -> Path:
    return Path(str(lab.part("twin").facts["state_dir"]))


def open_web_sessions(lab: RunningLab) -> list[dict[str, object]]:
    table = json.loads((twin_state_dir(lab) / "web-sessions.json").read_text(encoding="utf-8"))
    sessions = table["sessions"]
    assert isinstance(sessions, list) and table["count"] == len(sessions)
    return sessions


@pytest.fixture(scope="module")
def lab_runs(own_lab: RunningLab) -> SharedLab:
    return SharedLab(own_lab)


@pytest.fixture
def converged(lab_runs: SharedLab) -> PipelineOutcome:
    """The clean run the fault test ends with, or (when it did not run) one of this fixture's own."""
    if lab_runs.outcome is None:
        lab_runs.outcome = run(lab_runs.lab)
    assert lab_runs.outcome.compliant(), lab_runs.outcome.problems
    return lab_runs.outcome


def test_converges_under_injected_503s_and_leaves_no_session_open(own_lab: RunningLab, lab_runs: SharedLab) -> None:
    assert lab_runs.fresh, "the faults must meet a fresh lab: this test runs first in its module"
    faults = twin_state_dir(own_lab) / "faults.json"
    faults.write_text(FaultInjector.dump([unavailable(share=0.2)]), encoding="utf-8")
    try:
        outcomes = []
        for _ in range(3):
            outcomes.append(run(own_lab))
            if outcomes[-1].compliant():
                break
        assert outcomes[-1].compliant(), [o.problems for o in outcomes]
    finally:
        faults.unlink()
    assert open_web_sessions(own_lab) == []
    # Every probe really met the faults: no result says a 503 was a finding.
    last = outcomes[-1]
    assert not [r for s in last.stages for r in s.results if r.status is Status.FAIL], last.problems
    clean = lab_runs.outcome = run(own_lab)  # the next clean run is not tripped up by what a faulty run left
    assert clean.compliant(), clean.problems
    assert open_web_sessions(own_lab) == []


def snmp_v3_status(lab: RunningLab, node: str) -> Status:
    results = stages.load(Stage.PLATFORM).verify(lab.site())
    [found] = [r for r in results if r.control == "platform.snmp.v3" and r.target == node]
    return found.status


def test_snmp_password_changed_behind_our_back_is_planned_and_repaired(own_lab: RunningLab,
                                                                      converged: PipelineOutcome) -> None:
    loaded = own_lab.site()
    with management_api(loaded) as api:
        [node] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf01"]
        api.patch(node["resource_uri"], {"snmp_authentication_password": "changed-behind-our-back-1"})
    wait_until(lambda: snmp_v3_status(own_lab, "conf01") is Status.FAIL, timeout=NODE_PULL_S, interval=0.5,
               what="the changed password taking effect on conf01")

    verified = run_pipeline(site_path=str(own_lab.site_file), stage_names=["platform"], mode="verify")
    assert ("platform.snmp.v3", "conf01") in {(r.control, r.target) for s in verified.stages for r in s.results
                                              if r.status is Status.FAIL}
    plan = run_pipeline(site_path=str(own_lab.site_file), stage_names=["platform"], mode="plan")
    planned = [c for s in plan.stages for c in s.changes]
    assert [(c.control, c.target, c.setting) for c in planned] == [
        ("platform.snmp.v3", "conf01", "snmp_authentication_password, snmp_privacy_password")], planned

    repaired = run_pipeline(site_path=str(own_lab.site_file), stage_names=["platform"], mode="run")
    assert repaired.compliant(), repaired.problems
    assert [(c.control, c.target, c.applied) for s in repaired.stages for c in s.changes] == [
        ("platform.snmp.v3", "conf01", True)]
    assert snmp_v3_status(own_lab, "conf01") is Status.PASS


def test_a_run_alone_repairs_the_drift(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    """Without a verify first: the run's own verification FAILs, withdraws the belief, rewrites, re-verifies."""
    loaded = own_lab.site()
    with management_api(loaded) as api:
        [node] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf02"]
        api.patch(node["resource_uri"], {"snmp_authentication_password": "changed-behind-our-back-2"})
    wait_until(lambda: snmp_v3_status(own_lab, "conf02") is Status.FAIL, timeout=NODE_PULL_S, interval=0.5,
               what="the changed password taking effect on conf02")
    repaired = run_pipeline(site_path=str(own_lab.site_file), stage_names=["platform"], mode="run")
    assert repaired.compliant(), repaired.problems
    assert ("platform.snmp.v3", "conf02", True) in [(c.control, c.target, c.applied) for s in repaired.stages
                                                   for c in s.changes]
