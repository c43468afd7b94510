"""plan → run → verify → second run, against a fresh simulator: the stages' whole life cycle."""

from __future__ import annotations

import pytest

from securemode.catalogue import Stage, controls_for
from securemode.engine import PreApproved
from securemode.flows.stages import host as host_stage
from securemode.flows.stages import load
from securemode.flows.stages import vms as vms_stage
from securemode.infra.vcsim import Vcsim
from securemode.results import Status
from securemode.site_loader import LoadedSite
from securemode.vsphere.changes import render_changes
from tests.stage_steps import run_steps
from tests.stages_host_vms.dump import full_dump
from tests.stages_host_vms.lab import side_session, statuses

PASSWORD = "vms.bios.supervisor-password"


def test_stage_registry_finds_both_stages() -> None:
    assert load(Stage.HOST) is host_stage.SPEC
    assert load(Stage.VMS) is vms_stage.SPEC
    assert [s.name for s in host_stage.SPEC.steps][-1] == "lockdown"
    assert host_stage.SPEC.steps[-1].gated == "host.lockdown"


def test_plan_is_read_only_and_shows_current_to_desired(sim: Vcsim, lab: LoadedSite) -> None:
    with side_session(sim) as si:
        before = full_dump(si)
        host_plan = run_steps(host_stage.SPEC, lab, apply=False)
        vms_plan = run_steps(vms_stage.SPEC, lab, apply=False)
        after = full_dump(si)
    assert after == before, "plan changed the simulator"
    changes = host_plan.changes + vms_plan.changes
    assert changes and not any(c.applied for c in changes)
    planned = {c.control for c in changes}
    assert {"host.pnics.separate", "host.stig.ESXI-80-000005", "host.stig.ESXI-80-000231",
            "host.stig.ESXI-80-000124", "host.stig.ESXI-80-000008", "vms.ova.deployed", "vms.cpu.reservation",
            "vms.bios.force-setup"} <= planned
    lines = render_changes(changes)
    assert ("host.stig.ESXI-80-000005 [127.0.0.1] Security.AccountLockFailures: 5 → 3 (would change)" in lines)
    assert any(line.startswith("vms.ova.deployed [mgr01] vm: None → {") for line in lines)
    assert host_plan.ctx.approvals == [] and vms_plan.ctx.attestations == []


def test_run_applies_then_everything_passes_and_a_second_run_changes_nothing(sim: Vcsim, lab: LoadedSite) -> None:
    gate = PreApproved({"host.lockdown"}, who="test-engineer")
    first_host = run_steps(host_stage.SPEC, lab, apply=True, gate=gate)
    first_vms = run_steps(vms_stage.SPEC, lab, apply=True, gate=gate)
    assert first_host.changes and all(c.applied for c in first_host.changes)
    assert first_vms.changes and all(c.applied for c in first_vms.changes)
    assert [a.step for a in first_host.ctx.approvals] == ["host.lockdown"]
    assert any(s.startswith(PASSWORD) for s in first_vms.ctx.skipped), "the password awaits an attestation"

    results = host_stage.verify(lab) + vms_stage.verify(lab)
    expected_ids = {c.id for c in controls_for([Stage.HOST, Stage.VMS])}
    assert {r.control for r in results} == expected_ids
    assert len(results) == len(expected_ids)
    seen = statuses(results)
    assert seen.pop(PASSWORD) is Status.MANUAL
    assert {c: s for c, s in seen.items() if s is not Status.PASS} == {}
    assert all(r.observed is not None or r.control == PASSWORD for r in results)

    second = run_steps(host_stage.SPEC, lab, apply=True, gate=gate).changes + \
        run_steps(vms_stage.SPEC, lab, apply=True, gate=gate).changes
    assert second == []


def test_deployed_vm_matches_the_site(sim: Vcsim, lab: LoadedSite) -> None:
    with side_session(sim) as si:
        content = si.RetrieveContent()
        vms = content.viewManager.CreateContainerView(content.rootFolder, [], True).view
        vm = next(v for v in vms if getattr(v, "name", None) == "mgr01" and hasattr(v, "config"))
        hw = vm.config.hardware
        mhz = vm.runtime.host.summary.hardware.cpuMhz
        assert (hw.numCPU, hw.memoryMB) == (4, 8192)
        assert [ds.name for ds in vm.datastore] == ["LocalDS_0"]
        cpu, mem = vm.config.cpuAllocation, vm.config.memoryAllocation
        assert (cpu.reservation, cpu.limit, cpu.shares.level) == (4 * mhz, 4 * mhz, "normal")
        assert (mem.reservation, mem.limit, mem.shares.level) == (8192, 8192, "normal")
        assert vm.config.memoryReservationLockedToMax is True
        assert vm.config.bootOptions.enterBIOSSetup is True
        assert vm.runtime.host.config.lockdownMode == "lockdownNormal"


def test_attestation_resolves_the_manual_control(sim: Vcsim, lab: LoadedSite) -> None:
    gate = PreApproved(set(), who="bios-technician", attest_controls={PASSWORD})
    run = run_steps(vms_stage.SPEC, lab, apply=True, gate=gate)
    assert run.changes == []
    assert [(a.control, a.target, a.who) for a in run.ctx.attestations] == [(PASSWORD, "mgr01", "bios-technician")]
    result = next(r for r in vms_stage.verify(lab) if r.control == PASSWORD)
    assert result.status is Status.MANUAL
    assert result.attestation is not None and result.attestation.who == "bios-technician"
    again = run_steps(vms_stage.SPEC, lab, apply=True, gate=gate)
    assert again.ctx.attestations == [] and again.changes == []


@pytest.mark.parametrize("stage", [host_stage, vms_stage])
def test_verify_with_the_wrong_pin_is_error_for_every_control(lab: LoadedSite, stage: object,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    vs = lab.site.vsphere
    wrong = vs.model_copy(update={"trust": vs.trust.model_copy(update={"fingerprint_sha256": "00" * 32})})
    bad = type(lab)(site=lab.site.model_copy(update={"vsphere": wrong}), path=lab.path)
    results = stage.verify(bad)  # type: ignore[attr-defined]
    assert results and {r.status for r in results} == {Status.ERROR}
    assert "not the pinned one" in results[0].message
