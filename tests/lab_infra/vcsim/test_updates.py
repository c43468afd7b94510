"""WaitForUpdatesEx sees the changes made through the hardening API and ReconfigVM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyVmomi import VmomiSupport, vim, vmodl

from securemode.infra.vcsim.pytest_fixtures import run_task


def changes_after(si: Any, obj: Any, paths: list[str], act: Callable[[], Any], wait: int = 5) -> dict[str, Any]:
    """Property changes of obj (on paths) that a fresh collector sees after act()."""
    pc = si.content.propertyCollector.CreatePropertyCollector()
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj)],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(obj), pathSet=paths)],
        )
        pc.CreateFilter(spec, partialUpdates=True)
        first = pc.WaitForUpdatesEx(version="")
        act()
        options = vmodl.query.PropertyCollector.WaitOptions(maxWaitSeconds=wait)
        update = pc.WaitForUpdatesEx(version=first.version, options=options)
        assert update is not None, f"no update within {wait} s"
        return {
            change.name: change.val
            for fs in update.filterSet
            for ou in fs.objectSet
            if ou.kind == "modify"
            for change in ou.changeSet
        }
    finally:
        pc.DestroyPropertyCollector()


def test_lockdown_change_is_published(vcsim_si: Any, vcsim_host: Any) -> None:
    access = vcsim_host.configManager.hostAccessManager
    access.UpdateLockdownExceptions(users=["root"])
    seen = changes_after(
        vcsim_si, vcsim_host, ["config.lockdownMode"], lambda: access.ChangeLockdownMode(mode="lockdownNormal")
    )
    access.ChangeLockdownMode(mode="lockdownDisabled")
    assert seen["config.lockdownMode"] == "lockdownNormal"


def test_service_change_is_published(vcsim_si: Any, vcsim_host: Any) -> None:
    svc = vcsim_host.configManager.serviceSystem
    seen = changes_after(vcsim_si, svc, ["serviceInfo"], lambda: svc.UpdateServicePolicy(id="TSM", policy="on"))
    assert {s.key: s.policy for s in seen["serviceInfo"].service}["TSM"] == "on"


def test_ntp_change_is_published(vcsim_si: Any, vcsim_host: Any) -> None:
    cfg = vim.host.DateTimeConfig(ntpConfig=vim.host.NtpConfig(server=["127.0.0.21"]))
    seen = changes_after(
        vcsim_si,
        vcsim_host,
        ["config.dateTimeInfo"],
        lambda: vcsim_host.configManager.dateTimeSystem.UpdateDateTimeConfig(config=cfg),
    )
    assert list(seen["config.dateTimeInfo"].ntpConfig.server) == ["127.0.0.21"]


def test_network_change_is_published(vcsim_si: Any, vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    spec = vim.host.PortGroup.Specification(
        name="pub", vlanId=9, vswitchName="vSwitch0", policy=vim.host.NetworkPolicy()
    )
    seen = changes_after(vcsim_si, vcsim_host, ["config.network"], lambda: ns.AddPortGroup(portgrp=spec))
    assert any(pg.spec.name == "pub" for pg in seen["config.network"].portgroup)


def test_option_change_is_published(vcsim_si: Any, vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    value = vim.option.OptionValue(key="UserVars.DcuiTimeOut", value=VmomiSupport.vmodlTypes["long"](300))
    seen = changes_after(vcsim_si, om, ["setting"], lambda: om.UpdateOptions(changedValue=[value]))
    assert {o.key: o.value for o in seen["setting"]}["UserVars.DcuiTimeOut"] == 300


def test_reconfig_change_is_published(vcsim_si: Any, vcsim_vm: Any) -> None:
    spec = vim.vm.ConfigSpec(cpuAllocation=vim.ResourceAllocationInfo(reservation=1234))
    seen = changes_after(
        vcsim_si,
        vcsim_vm,
        ["config.cpuAllocation", "config.annotation"],
        lambda: run_task(vcsim_vm.ReconfigVM_Task(spec=spec)),
    )
    assert seen["config.cpuAllocation"].reservation == 1234
    assert "config.annotation" not in seen  # only what changed


def test_unchanged_state_gives_no_update(vcsim_si: Any, vcsim_host: Any) -> None:
    with pytest.raises(AssertionError, match="no update"):
        changes_after(vcsim_si, vcsim_host, ["config.lockdownMode"], lambda: None, wait=1)
