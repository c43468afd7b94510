"""Break each setting behind the engine's back: the verifiers report FAIL for exactly the affected control,
and a new run repairs it (changing only that control's settings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from securemode.engine import PreApproved
from securemode.flows.stages import host as host_stage
from securemode.flows.stages import vms as vms_stage
from securemode.infra.vcsim import Vcsim
from securemode.results import Status
from securemode.site_loader import LoadedSite
from tests.stage_steps import run_steps
from tests.stages_host_vms.breaks import Drift, host_drifts, vm_drifts
from tests.stages_host_vms.lab import failing, side_session

GATE = PreApproved({"host.lockdown"}, who="test-engineer")
PASSWORD = "vms.bios.supervisor-password"
CORE_MHZ = 2294  # vcsim's ESX model: summary.hardware.cpuMhz (checked in the fixture)


@pytest.fixture(scope="module")
def compliant(sim: Vcsim, lab: LoadedSite) -> LoadedSite:
    run_steps(host_stage.SPEC, lab, apply=True, gate=GATE)
    run_steps(vms_stage.SPEC, lab, apply=True, gate=GATE)
    assert failing(host_stage.verify(lab)) == set()
    assert failing(vms_stage.verify(lab)) == {PASSWORD}
    return lab


@pytest.fixture(scope="module")
def other(sim: Vcsim) -> Iterator[tuple[Any, Any]]:
    """The saboteur's own session: (host, management VM)."""
    from pyVmomi import vim

    with side_session(sim) as si:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        host = view.view[0]
        view.Destroy()
        assert host.summary.hardware.cpuMhz == CORE_MHZ
        vm = next(v for v in host.vm if v.name == "mgr01") if host.vm else None
        yield host, vm


def _check(drift: Drift, stage: Any, lab: LoadedSite, other: tuple[Any, Any]) -> None:
    host, _ = other
    vm = next((v for v in host.vm if v.name == "mgr01"), None)
    drift.apply(host, vm)
    results = stage.verify(lab)
    broken = {r.control for r in results if r.status is Status.FAIL}
    assert broken == drift.fails, f"{drift.name}: {broken}"
    assert {r.status for r in results if r.control not in drift.fails} <= {Status.PASS, Status.MANUAL}
    for r in results:
        if r.control in drift.fails:
            assert r.observed is not None or r.message, r
    run = run_steps(stage.SPEC, lab, apply=True, gate=GATE)
    if drift.engine_repairs:
        assert run.changes and {c.control for c in run.changes} <= drift.fails | {"vms.ova.deployed"}, run.changes
        assert all(c.applied for c in run.changes)
    else:
        assert run.changes == []
        assert any(note.startswith(next(iter(drift.fails))) for note in run.ctx.skipped), run.ctx.skipped
        assert drift.undo is not None
        drift.undo(host, vm)
    assert {r.control for r in stage.verify(lab) if r.status is Status.FAIL} == set()


@pytest.mark.parametrize("drift", host_drifts(), ids=lambda d: d.name)
def test_host_drift_fails_exactly_its_control(drift: Drift, compliant: LoadedSite, other: tuple[Any, Any]) -> None:
    _check(drift, host_stage, compliant, other)


@pytest.mark.parametrize("drift", vm_drifts(CORE_MHZ), ids=lambda d: d.name)
def test_vm_drift_fails_exactly_its_control(drift: Drift, compliant: LoadedSite, other: tuple[Any, Any]) -> None:
    _check(drift, vms_stage, compliant, other)
