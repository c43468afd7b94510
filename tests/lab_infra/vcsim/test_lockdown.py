"""Lockdown: HostAccessManager modes and exceptions, host.config.lockdownMode, refused logins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyVim.connect import Disconnect
from pyVmomi import vim, vmodl

from securemode.infra.vcsim import Vcsim
from securemode.infra.vcsim.pytest_fixtures import connect, first_object


@pytest.fixture
def unlocked(vcsim_host: Any) -> Iterator[Any]:
    """Each test starts and ends with lockdown disabled and no exceptions."""
    access = vcsim_host.configManager.hostAccessManager
    access.ChangeLockdownMode(mode="lockdownDisabled")
    access.UpdateLockdownExceptions(users=[])
    yield access
    access.ChangeLockdownMode(mode="lockdownDisabled")


def dcui_running(host: Any) -> bool:
    return {s.key: s.running for s in host.configManager.serviceSystem.serviceInfo.service}["DCUI"]


def test_starts_disabled(vcsim_host: Any, unlocked: Any) -> None:
    assert vcsim_host.config.lockdownMode == "lockdownDisabled"
    assert unlocked.lockdownMode == "lockdownDisabled"


@pytest.mark.parametrize("mode", ["lockdownNormal", "lockdownStrict"])
def test_change_mode_is_reflected_in_host_config(vcsim: Vcsim, vcsim_host: Any, unlocked: Any, mode: str) -> None:
    unlocked.UpdateLockdownExceptions(users=[vcsim.username])
    unlocked.ChangeLockdownMode(mode=mode)
    assert vcsim_host.config.lockdownMode == mode
    assert vcsim_host.config.adminDisabled is True
    assert unlocked.lockdownMode == mode


def test_strict_mode_stops_dcui(vcsim: Vcsim, vcsim_host: Any, unlocked: Any) -> None:
    unlocked.UpdateLockdownExceptions(users=[vcsim.username])
    unlocked.ChangeLockdownMode(mode="lockdownStrict")
    assert dcui_running(vcsim_host) is False
    unlocked.ChangeLockdownMode(mode="lockdownDisabled")
    assert dcui_running(vcsim_host) is True


def test_exceptions_round_trip(unlocked: Any) -> None:
    unlocked.UpdateLockdownExceptions(users=["svc-securemode", "root"])
    assert sorted(unlocked.QueryLockdownExceptions()) == ["root", "svc-securemode"]


def test_locked_host_refuses_non_exception_logins(vcsim: Vcsim, unlocked: Any) -> None:
    unlocked.UpdateLockdownExceptions(users=["someone-else"])
    unlocked.ChangeLockdownMode(mode="lockdownNormal")
    with pytest.raises(vim.fault.InvalidLogin):
        connect(vcsim)
    unlocked.UpdateLockdownExceptions(users=[vcsim.username])
    si = connect(vcsim)
    Disconnect(si)


def test_bad_mode_is_invalid_argument(vcsim_host: Any, unlocked: Any) -> None:
    with pytest.raises(vmodl.fault.InvalidArgument):
        unlocked.ChangeLockdownMode(mode="lockdownSometimes")
    assert vcsim_host.config.lockdownMode == "lockdownDisabled"


def test_host_methods_refused_directly_on_esxi(vcsim_host: Any, unlocked: Any) -> None:
    with pytest.raises(vim.fault.DisableAdminNotSupported):
        vcsim_host.EnterLockdownMode()
    with pytest.raises(vim.fault.DisableAdminNotSupported):
        vcsim_host.ExitLockdownMode()
    assert vcsim_host.config.lockdownMode == "lockdownDisabled"


def test_host_methods_work_through_vcenter(vcsim_factory: Any) -> None:
    sim = vcsim_factory(mode="vcenter", hosts=2, vms=0)
    si = connect(sim)
    try:
        host = first_object(si, vim.HostSystem)
        host.EnterLockdownMode()
        assert host.config.lockdownMode == "lockdownNormal"
        assert host.configManager.hostAccessManager.lockdownMode == "lockdownNormal"
        host.ExitLockdownMode()
        assert host.config.lockdownMode == "lockdownDisabled"
    finally:
        Disconnect(si)
