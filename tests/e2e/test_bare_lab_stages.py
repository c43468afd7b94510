"""From an empty host: on the bare lab the host stage builds the VM network, the vms stage deploys the
Management Node from its OVA and powers it on, bootstrap answers the installation wizard on its fresh
console, and the nodes stage registers both conferencing nodes, deploys the OVAs the Management Node
generates for them and waits until they are DEPLOYED and SYNCED; every control of the four stages holds,
and a second run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.pexip.connect import management_api
from securemode.results import Status
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES
from tests.own_lab import lab_of_its_own

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
STAGES = ["host", "vms", "bootstrap", "nodes"]
NODES = 2


@pytest.fixture(scope="module")
def bare_lab() -> Iterator[RunningLab]:
    with lab_of_its_own(UpOptions(nodes=NODES, profile="bare", sync_interval_s=0.5), "securemode-e2e-bare-") as lab:
        yield lab


def _run(lab: RunningLab, report_dir: Path) -> PipelineOutcome:
    return run_pipeline(
        site_path=str(lab.site_file),
        stage_names=STAGES,
        mode="run",
        approve=GATES,
        attest=ATTEST,
        approver=APPROVER,
        report_dir=str(report_dir),
    )


def _node_status(lab: RunningLab) -> dict[str, tuple[str, str]]:
    """Each conferencing node's deploy and sync status, read apart from the engine (its own API session)."""
    with management_api(lab.site()) as api:
        rows = list(api.iter_objects("/api/admin/status/v1/worker_vm/"))
    return {str(r["name"]): (str(r["deploy_status"]), str(r["sync_status"])) for r in rows}


def test_host_vms_bootstrap_nodes_from_an_empty_host_then_nothing_to_change(bare_lab: RunningLab,
                                                                             tmp_path: Path) -> None:
    first = _run(bare_lab, tmp_path / "first")
    assert first.compliant(), first.problems
    assert [s.stage for s in first.stages] == STAGES
    made = {(s.stage, c.control, c.target, c.setting) for s in first.stages for c in s.changes if c.applied}
    assert any(m[:2] == ("vms", "vms.ova.deployed") and m[3] == "vm" for m in made)
    assert any(m[:2] == ("bootstrap", "bootstrap.web-login") and m[3] == "installation_wizard" for m in made)
    nodes = first.stages[-1]
    conferencing = sorted({r.target for r in nodes.results if r.control == "nodes.registered"})
    assert len(conferencing) == NODES
    for node in conferencing:  # each registered, deployed from its own OVA, powered on
        for control, setting in (("nodes.registered", "worker_vm"), ("nodes.vm-deployed", "vm"),
                                 ("nodes.vm-deployed", "runtime.powerState")):
            assert ("nodes", control, node, setting) in made, (control, node, setting)
    proven = {(r.control, r.target): r.status for r in nodes.results}
    assert all(status is Status.PASS for (control, _t), status in proven.items()
               if control != "nodes.bios.supervisor-password"), proven
    assert {node: _node_status(bare_lab).get(node) for node in conferencing} == dict.fromkeys(
        conferencing, ("DEPLOYED", "SYNCED"))

    second = _run(bare_lab, tmp_path / "second")
    assert second.compliant(), second.problems
    assert [c for s in second.stages for c in s.changes if c.applied] == []
