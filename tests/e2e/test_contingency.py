"""The contingency deployment on the lab, end to end: the pipeline builds the fallback with the primary's own
stages and the guide's exceptions, proves parity and powers every fallback VM off; a second run powers
nothing on; a tamper on the primary shows as a parity FAIL naming the field, and a refresh brings both back
into parity and the fallback off; a fallback VM powered on behind the engine's back is drift on `reverify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.catalogue import Stage
from securemode.fallback_site import fallback_path
from securemode.flows.contingency_refresh import contingency_refresh
from securemode.flows.pipeline import PipelineOutcome
from securemode.flows.reverify import ReverifyOutcome, reverify
from securemode.flows.states import outcome_of
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.pexip import parity_record
from securemode.pexip.connect import management_api
from securemode.results import Result, Status
from securemode.site_loader import load_site
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.power import POWERED_OFF, PowerReader
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES, run
from tests.own_lab import lab_of_its_own

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
TAMPERED_TIMEOUT = 29


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    options = UpOptions(nodes=1, profile="bare", sync_interval_s=0.5, contingency=True)
    with lab_of_its_own(options, "securemode-e2e-contingency-") as lab:
        yield lab


def rows(outcome: PipelineOutcome) -> dict[tuple[str, str], Status]:
    return {(r.control, r.target): r.status for s in outcome.stages if s.stage == "contingency" for r in s.results}


def fallback_power(lab: RunningLab) -> dict[str, str]:
    plan = lab.site().site.contingency
    assert plan is not None
    with open_site_session(lab.site()) as session:
        reader = PowerReader(session)
        found = {n.name: reader.read(n.name) for n in (plan.management_node, *plan.conferencing_nodes)}
    return {name: vm.state if vm else "missing" for name, vm in found.items()}


def contingency_results(lab: RunningLab) -> dict[tuple[str, str], Result]:
    from securemode.flows import stages

    return {(r.control, r.target): r for r in stages.load(Stage.CONTINGENCY).verify(lab.site())}


def test_the_pipeline_builds_the_fallback_proves_parity_and_powers_it_off(lab: RunningLab, tmp_path: Path) -> None:
    outcome = run(lab, tmp_path / "first")
    assert outcome.compliant(), outcome.problems
    statuses = rows(outcome)
    assert statuses[("contingency.parity", "contingency")] is Status.PASS
    for control in ("contingency.auth.ldap-and-local", "contingency.auth.no-client-cert", "contingency.no-licence"):
        assert statuses[(control, "contingency")] is Status.PASS, control
    assert set(fallback_power(lab).values()) == {POWERED_OFF}
    assert all(statuses[("contingency.powered-off", name)] is Status.PASS for name in fallback_power(lab))
    # the fallback was built by the primary's stages, its exceptions NOT_APPLICABLE there, not skipped
    fallback = load_site(Path(fallback_path(str(lab.site_file))))
    assert fallback.site.management_node.name in fallback_power(lab)
    record = parity_record.load(lab.site())
    assert record is not None and not record.disallowed


def test_a_second_run_changes_nothing_and_powers_nothing_on(lab: RunningLab) -> None:
    outcome = run(lab)
    assert outcome.compliant(), outcome.problems
    contingency = next(s for s in outcome.stages if s.stage == "contingency")
    assert contingency.changes == []
    assert set(fallback_power(lab).values()) == {POWERED_OFF}


def test_a_tamper_on_the_primary_fails_parity_until_a_refresh(lab: RunningLab) -> None:
    with management_api(lab.site()) as api:
        api.patch("/api/admin/configuration/v1/global/1/", {"management_session_timeout": TAMPERED_TIMEOUT})
    parity = contingency_results(lab)[("contingency.parity", "contingency")]
    assert parity.status is Status.FAIL and "global.management_session_timeout" in (parity.message or ""), parity
    outcome = outcome_of(contingency_refresh(site_path=str(lab.site_file), approve=GATES, attest=ATTEST,
                                             approver=APPROVER, return_state=True), PipelineOutcome)
    assert outcome.compliant(), outcome.problems
    assert contingency_results(lab)[("contingency.parity", "contingency")].status is Status.PASS
    assert set(fallback_power(lab).values()) == {POWERED_OFF}


def test_a_fallback_vm_powered_on_behind_the_engines_back_is_drift(lab: RunningLab) -> None:
    site = str(lab.site_file)
    first = outcome_of(reverify(site_path=site, stage_names=["contingency"], return_state=True), ReverifyOutcome)
    assert first.drift == []
    name = next(iter(fallback_power(lab)))
    with open_site_session(lab.site()) as session:
        vm = PowerReader(session).read(name)
        assert vm is not None
        wait_for_task(vm.ref.PowerOnVM_Task(), f"power-on of {name}")
    try:
        second = outcome_of(reverify(site_path=site, stage_names=["contingency"], return_state=True),
                            ReverifyOutcome)
        assert [(d.control, d.target) for d in second.drift] == [("contingency.powered-off", name)]
    finally:
        outcome = run(lab, stage_names=["contingency"])
        assert set(fallback_power(lab).values()) == {POWERED_OFF}, outcome.problems
