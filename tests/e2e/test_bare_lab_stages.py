"""From an empty host: on the bare lab the host stage builds the VM network, the vms stage deploys the
Management Node from its OVA and powers it on, bootstrap answers the installation wizard on its fresh
console, and the nodes stage registers both conferencing nodes, deploys the OVAs the Management Node
generates for them and waits until they are DEPLOYED and SYNCED; every control of the four stages holds,
and a second run changes nothing. On the way, the engine is killed during the nodes' OVA upload: the run
after it finishes them without a duplicate VM."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.pexip.connect import management_api
from securemode.results import Status
from securemode.vsphere import open_site_session
from securemode.vsphere.vmodl import vim
from tests.e2e.nodes_upload_child import PROGRESS
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES
from tests.own_lab import lab_of_its_own

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
STAGES = ["host", "vms", "bootstrap", "nodes"]
NODES = 2
ROOT = Path(__file__).resolve().parents[2]
UPLOAD_WAIT_S = 120.0


@pytest.fixture(scope="module")
def bare_lab() -> Iterator[RunningLab]:
    with lab_of_its_own(UpOptions(nodes=NODES, profile="bare", sync_interval_s=0.5), "securemode-e2e-bare-") as lab:
        yield lab


def _run(lab: RunningLab, report_dir: Path, stages: list[str] = STAGES) -> PipelineOutcome:
    return run_pipeline(
        site_path=str(lab.site_file),
        stage_names=stages,
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


def _vm_names(lab: RunningLab) -> list[str]:
    """Every VM's name on the host, duplicates kept (a fresh session of the test's own)."""
    with open_site_session(lab.site()) as session:
        content = session.content
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        try:
            return sorted(vm.name for vm in view.view)
        finally:
            view.Destroy()


def _kill_during_upload(lab: RunningLab) -> str:
    """Run the nodes stage in a process of its own and kill it by PID once it reports upload progress; returns
    what it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.nodes_upload_child", str(lab.site_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        return _output_until(child.stdout.fileno(), PROGRESS, UPLOAD_WAIT_S)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)


def _output_until(fd: int, marker: str, timeout_s: float) -> str:
    """Unbuffered reads of ``fd`` until ``marker`` shows, the stream ends or the time is up."""
    seen = b""
    deadline = time.monotonic() + timeout_s
    while marker.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


def test_from_an_empty_host_through_a_killed_upload_to_every_control_holding(
    bare_lab: RunningLab, tmp_path: Path
) -> None:
    before = _run(bare_lab, tmp_path / "before", STAGES[:-1])
    assert before.compliant(), before.problems
    made = {(s.stage, c.control, c.target, c.setting) for s in before.stages for c in s.changes if c.applied}
    assert any(m[:2] == ("vms", "vms.ova.deployed") and m[3] == "vm" for m in made)
    assert any(m[:2] == ("bootstrap", "bootstrap.web-login") and m[3] == "installation_wizard" for m in made)

    printed = _kill_during_upload(bare_lab)
    assert PROGRESS in printed, printed[-3000:]
    conferencing = [n.name for n in bare_lab.site().site.conferencing_nodes]
    left = [name for name in _vm_names(bare_lab) if name in conferencing]  # VMs of the aborted imports

    first = _run(bare_lab, tmp_path / "first", ["nodes"])  # the stages before it were just proven compliant
    assert first.compliant(), first.problems
    assert [s.stage for s in first.stages] == ["nodes"]
    assert all(_vm_names(bare_lab).count(name) == 1 for name in conferencing), _vm_names(bare_lab)
    made = {(s.stage, c.control, c.target, c.setting) for s in first.stages for c in s.changes if c.applied}
    nodes = first.stages[-1]
    assert len(conferencing) == NODES
    for node in conferencing:  # each (registered by the killed run,) deployed from its own OVA, powered on
        for control, setting in (("nodes.vm-deployed", "vm"), ("nodes.vm-deployed", "runtime.powerState")):
            assert ("nodes", control, node, setting) in made, (control, node, setting)
    redeployed = {c.target: c.current for c in nodes.changes if c.applied and c.setting == "vm"}
    assert {name: redeployed[name] for name in left} == dict.fromkeys(left, "from an import that did not finish")
    proven = {(r.control, r.target): r.status for r in nodes.results}
    assert all(
        status is Status.PASS for (control, _t), status in proven.items() if control != "nodes.bios.supervisor-password"
    ), proven
    assert {node: _node_status(bare_lab).get(node) for node in conferencing} == dict.fromkeys(
        conferencing, ("DEPLOYED", "SYNCED")
    )

    second = _run(bare_lab, tmp_path / "second")
    assert second.compliant(), second.problems
    assert [s.stage for s in second.stages] == STAGES
    assert [c for s in second.stages for c in s.changes if c.applied] == []
