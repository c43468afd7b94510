"""From an empty host: on the bare lab the host stage builds the VM network, the vms stage deploys the
Management Node from its OVA and powers it on, and bootstrap answers the installation wizard on its fresh
console; every control of the three stages holds, and a second run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES
from tests.own_lab import lab_of_its_own

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
STAGES = ["host", "vms", "bootstrap"]
# With no conferencing node yet, the security wizard's SIP ports show nowhere outside the Management Node (the
# lab's snapshot has no security.json): a person attests them from the engine's record, like the other
# MANUAL rows; the nodes stage then proves them by SIP OPTIONS on each conferencing node.
SIP_ROWS = ["bootstrap.wizard.sip-udp-port", "bootstrap.wizard.sip-tcp-port", "bootstrap.wizard.sip-tls-port"]


@pytest.fixture(scope="module")
def bare_lab() -> Iterator[RunningLab]:
    with lab_of_its_own(UpOptions(nodes=0, profile="bare", sync_interval_s=0.5), "securemode-e2e-bare-") as lab:
        yield lab


def _run(lab: RunningLab, report_dir: Path) -> PipelineOutcome:
    return run_pipeline(
        site_path=str(lab.site_file),
        stage_names=STAGES,
        mode="run",
        approve=GATES,
        attest=[*ATTEST, *SIP_ROWS],
        approver=APPROVER,
        report_dir=str(report_dir),
    )


def test_host_vms_bootstrap_from_an_empty_host_then_nothing_to_change(bare_lab: RunningLab, tmp_path: Path) -> None:
    first = _run(bare_lab, tmp_path / "first")
    assert first.compliant(), first.problems
    assert [s.stage for s in first.stages] == STAGES
    made = {(s.stage, c.control, c.setting) for s in first.stages for c in s.changes if c.applied}
    assert ("vms", "vms.ova.deployed", "vm") in made
    assert ("vms", "vms.ova.deployed", "runtime.powerState") in made
    assert ("bootstrap", "bootstrap.web-login", "installation_wizard") in made

    second = _run(bare_lab, tmp_path / "second")
    assert second.compliant(), second.problems
    assert [c for s in second.stages for c in s.changes if c.applied] == []
