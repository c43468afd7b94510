"""The engine account's least role: created before lockdown with exactly the engine's privileges, idempotent,
drift (Admin or extra privileges) FAILs naming it and is repaired, an unreadable host is ERROR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securemode.engine import EngineContext, PreApproved
from securemode.flows.stages import host as host_stage
from securemode.infra.vcsim import Vcsim, VcsimOptions, start_vcsim
from securemode.results import Result, Status
from securemode.site_loader import LoadedSite
from securemode.vsphere.engine_role import ENGINE_PRIVILEGES, ENGINE_ROLE, LEAST_ROLE_CONTROL
from securemode.vsphere.vmodl import vim
from tests.stage_steps import run_steps
from tests.stages_host_vms.lab import lab_document, lab_environment, side_session, write_site

ROLE_STEP = host_stage.SPEC.step("engine_role")


@pytest.fixture(scope="module")
def sim(vcsim_binary: Path) -> Iterator[Vcsim]:
    simulator = start_vcsim(VcsimOptions(vms=0), binary=vcsim_binary)
    try:
        yield simulator
    finally:
        simulator.stop()


def _least_role(loaded: LoadedSite) -> Result:
    return next(r for r in host_stage.verify(loaded) if r.control == LEAST_ROLE_CONTROL)


def _mine(content: Any, account: str) -> list[Any]:
    return [p for p in content.authorizationManager.RetrieveAllPermissions() if p.principal == account
            and not p.group]


def _role(content: Any) -> Any:
    return next(r for r in content.authorizationManager.roleList if r.name == ENGINE_ROLE)


def test_plan_shows_the_role_run_sets_it_once_and_verify_passes(sim: Vcsim, lab: LoadedSite) -> None:
    before = _least_role(lab)
    assert before.status is Status.FAIL and "holds the Admin role" in before.message
    plan = [c for c in run_steps(host_stage.SPEC, lab, apply=False).changes if c.control == LEAST_ROLE_CONTROL]
    assert [(c.setting, c.current, c.desired, c.applied) for c in plan] == [
        (f"role[{ENGINE_ROLE}].privileges", None, sorted(ENGINE_PRIVILEGES), False),
        ("permission[root folder]", "Admin", ENGINE_ROLE, False)]
    ran = run_steps(host_stage.SPEC, lab, apply=True, gate=PreApproved({"host.lockdown"}, who="tester"))
    assert [(c.setting, c.applied) for c in ran.changes if c.control == LEAST_ROLE_CONTROL] == [
        (c.setting, True) for c in plan]
    with side_session(sim) as si:
        content = si.RetrieveContent()
        assert set(_role(content).privilege) == ENGINE_PRIVILEGES
        [perm] = _mine(content, sim.username)
        assert perm.roleId == _role(content).roleId and perm.propagate and perm.entity == content.rootFolder
        assert content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True).view[
            0].config.lockdownMode == "lockdownNormal"  # lockdown came after the reduction, in the same run
    again = EngineContext(site=lab, apply=True)
    assert ROLE_STEP.run(again) == [] and again.skipped == []
    after = _least_role(lab)
    assert after.status is Status.PASS, after.message


def test_admin_behind_the_engines_back_fails_naming_it_and_run_repairs(sim: Vcsim, lab: LoadedSite) -> None:
    with side_session(sim) as si:
        content = si.RetrieveContent()
        host = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True).view[0]
        content.authorizationManager.SetEntityPermissions(entity=host, permission=[
            vim.AuthorizationManager.Permission(principal=sim.username, group=False, roleId=-1, propagate=True)])
        result = _least_role(lab)
        assert result.status is Status.FAIL
        assert f"'{sim.username}' holds the Admin role on {host.name}" in result.message
        changes = ROLE_STEP.run(EngineContext(site=lab, apply=True))
        assert [(c.setting, c.current, c.applied) for c in changes] == [
            (f"permission[{host.name} ({host._moId})]", "Admin", True)]
        assert [p.entity for p in _mine(content, sim.username)] == [content.rootFolder]
    assert _least_role(lab).status is Status.PASS


def test_extra_privileges_in_the_role_fail_naming_them_and_run_restores_the_set(sim: Vcsim,
                                                                                 lab: LoadedSite) -> None:
    with side_session(sim) as si:
        content = si.RetrieveContent()
        manager, role = content.authorizationManager, _role(content)
        extra = ["Authorization.ModifyPermissions", "Host.Config.Patch"]
        manager.UpdateAuthorizationRole(roleId=role.roleId, newName=ENGINE_ROLE, privIds=[*role.privilege, *extra])
        result = _least_role(lab)
        assert result.status is Status.FAIL
        assert "beyond the engine's: Authorization.ModifyPermissions, Host.Config.Patch" in result.message
        plan = ROLE_STEP.run(EngineContext(site=lab, apply=False))
        assert [(c.setting, c.applied) for c in plan] == [(f"role[{ENGINE_ROLE}].privileges", False)]
        ROLE_STEP.run(EngineContext(site=lab, apply=True))
        assert set(_role(content).privilege) == ENGINE_PRIVILEGES
    assert _least_role(lab).status is Status.PASS


def test_a_host_that_does_not_answer_is_error(vcsim_binary: Path, tmp_path: Path) -> None:
    gone = start_vcsim(VcsimOptions(vms=0), binary=vcsim_binary)
    try:
        with lab_environment(gone, tmp_path / "state"):
            loaded = write_site(tmp_path, lab_document(gone, name="lab-engine-role-gone"), ova=False)
            gone.stop()
            result = _least_role(loaded)
            assert result.status is Status.ERROR and "cannot read the vSphere host" in result.message
    finally:
        gone.stop()
