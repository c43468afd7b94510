"""Failover on the lab, end to end: refused (nothing changed) while the fallback was never built; then the
pipeline builds the fallback, and a failover with isolation power-off turns the primary off, brings the
fallback up and proves it (its HTTPS answers, its local admin logs in), marks the failover active so the
contingency stage no longer calls the running fallback drift, pauses for the licence transfer until it is
answered through the API, and reports the timeline and the RTO; after a failback, `securemode failover` (the
licence attested in advance) does it again and prints the RTO."""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securemode.catalogue import Stage
from securemode.failover_marker import active_failover, clear_failover
from securemode.flows import stages
from securemode.flows.failover import FailoverOutcome, run_failover
from securemode.flows.failover_proof import local_admin_logs_in
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.reports.json_report import read_report
from securemode.results import Status
from securemode.site_loader import load_fallback
from securemode.tasks.failover.isolation import primary_vm_names
from securemode.tasks.failover.power_on import apply_power_on
from securemode.vsphere import open_site_session
from securemode.vsphere.power import POWERED_OFF, POWERED_ON, PowerReader
from tests.e2e.pipeline_runs import cli, run
from tests.own_lab import lab_of_its_own
from tests.prefect_http import api_http

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    options = UpOptions(nodes=1, profile="bare", sync_interval_s=0.5, contingency=True)
    with lab_of_its_own(options, "securemode-e2e-failover-") as lab:
        yield lab


def power(lab: RunningLab, names: list[str]) -> dict[str, str]:
    with open_site_session(lab.site()) as session:
        reader = PowerReader(session)
        return {name: vm.state if (vm := reader.read(name)) else "missing" for name in names}


def fallback_names(lab: RunningLab) -> list[str]:
    plan = lab.site().site.contingency
    assert plan is not None
    return [plan.management_node.name, *(n.name for n in plan.conferencing_nodes)]


def paused_failover(api: str, worker: threading.Thread, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.is_alive():
        found = api_http.post(
            f"{api}/flow_runs/filter",
            json={"flows": {"name": {"any_": ["failover"]}}, "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}},
        ).json()
        if found:
            return dict(found[0])
        time.sleep(1)
    raise AssertionError("the failover ended or never paused for the licence transfer")


def test_a_failover_is_refused_while_the_fallback_was_never_built(lab: RunningLab, tmp_path: Path) -> None:
    outcome = run_failover(site_path=str(lab.site_file), reason="drill", declared_by="e2e", report_dir=str(tmp_path))
    assert not outcome.verified and outcome.problems
    assert any("contingency.parity" in p and "never exported" in p for p in outcome.problems), outcome.problems
    assert [s.step for s in outcome.operation.timeline] == ["preconditions"]  # nothing else was touched
    assert active_failover(lab.site()) is None
    report = read_report(tmp_path / "report.json")
    assert report.operation is not None and "contingency.parity" in report.operation.timeline[0].note


def test_the_pipeline_builds_the_fallback(lab: RunningLab) -> None:
    built = run(lab)
    assert built.compliant(), built.problems


def test_failover_isolates_the_primary_and_proves_the_fallback(
    lab: RunningLab, prefect_api: str, tmp_path: Path
) -> None:
    primary_vms = primary_vm_names(lab.site().site)
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_OFF}

    box: list[FailoverOutcome] = []

    def failover() -> None:
        box.append(
            run_failover(
                site_path=str(lab.site_file),
                reason="primary datacentre flooded",
                declared_by="e2e responder",
                isolation="power-off",
                report_dir=str(tmp_path),
            )
        )

    # the thread runs in this test's context: the Prefect settings (the API) are context variables
    worker = threading.Thread(target=contextvars.copy_context().run, args=(failover,), daemon=True)
    worker.start()
    paused = paused_failover(prefect_api, worker)
    assert "licence-transfer" in (paused["state"]["message"] or "")

    # while it waits for the licence, the fallback already serves and the primary is off
    assert set(power(lab, primary_vms).values()) == {POWERED_OFF}
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_ON}
    fallback = load_fallback(lab.site())
    assert local_admin_logs_in(fallback).status is Status.PASS
    marker = active_failover(lab.site())
    assert marker is not None and marker.declared_by == "e2e responder"
    rows = {(r.control, r.target): r for r in stages.load(Stage.CONTINGENCY).verify(lab.site())}
    for name in fallback_names(lab):
        row = rows[("contingency.powered-off", name)]
        assert row.status is Status.NOT_APPLICABLE and "failover active since" in row.message, row
    assert rows[("contingency.licence-transfer", "contingency")].status is Status.MANUAL

    answer = api_http.post(
        f"{prefect_api}/flow_runs/{paused['id']}/resume",
        json={"run_input": {"who": "licence desk (case 4711)", "note": "re-activated"}},
    )
    assert answer.status_code in (200, 201), answer.text
    worker.join(timeout=300)
    assert box, "the failover did not finish after the licence was attested"
    outcome = box[0]
    assert outcome.verified and not outcome.problems, outcome.problems
    assert outcome.licence is not None and outcome.licence.who == "licence desk (case 4711)"
    assert outcome.operation.recovery_s is not None and outcome.operation.recovery_s > 0
    assert outcome.rto_line().startswith("RTO: ")
    steps = [s.step for s in outcome.operation.timeline]
    assert steps[:2] == ["preconditions", "isolate primary (power-off)"] and steps[-1] == "licence transfer"
    assert steps.index("power on fallback Management Node") < steps.index("power on fallback conferencing nodes")
    report = read_report(tmp_path / "report.json")
    assert report.operation is not None and report.operation.recovery_s == outcome.operation.recovery_s
    licence = next(r for r in report.results if r.control == "contingency.licence-transfer")
    assert licence.status is Status.MANUAL and licence.attestation is not None
    assert not [r for r in report.results if r.status in (Status.FAIL, Status.ERROR)]
    # the contingency stage now leaves the running fallback alone
    again = run(lab, stage_names=["contingency"])
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_ON}, again.problems


def test_after_a_failback_the_command_line_fails_over_again_and_prints_the_rto(lab: RunningLab) -> None:
    # a failback, as the rebuild ends with one: the primary's VMs on, the marker cleared, the pipeline
    # converging the primary and powering the fallback off
    with open_site_session(lab.site()) as session:
        apply_power_on(PowerReader(session), primary_vm_names(lab.site().site))
    assert clear_failover(lab.site())
    restored = run(lab)
    assert restored.compliant(), restored.problems
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_OFF}
    proc = cli(
        lab,
        "failover",
        "--site",
        str(lab.site_file),
        "--reason",
        "drill",
        "--by",
        "e2e",
        "--attest",
        "contingency.licence-transfer",
        "--approver",
        "licence desk",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^RTO: \d+\.\d s from ", proc.stdout, re.MULTILINE), proc.stdout
    assert "licence transfer: attested by licence desk" in proc.stdout
    assert set(power(lab, primary_vm_names(lab.site().site)).values()) == {POWERED_OFF}
    declared = cli(lab, "incident", "--site", str(lab.site_file), "--reason", "drill over", "--by", "e2e")
    assert declared.returncode == 0, declared.stderr
    assert re.search(r"securemode\.incident\.declared for site \S+: event [0-9a-f-]{36}$", declared.stdout.strip())
