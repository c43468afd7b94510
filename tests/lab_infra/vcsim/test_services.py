"""HostServiceSystem: list, start/stop/restart, policy, and host.config.service in sync."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim, vmodl

STIG_SERVICES = {"TSM", "TSM-SSH", "ntpd", "slpd", "sfcbd-watchdog", "DCUI", "snmpd"}


def services(host: Any) -> dict[str, Any]:
    return {s.key: s for s in host.configManager.serviceSystem.serviceInfo.service}


def test_service_list_has_the_stig_services(vcsim_host: Any) -> None:
    listed = services(vcsim_host)
    assert set(listed) >= STIG_SERVICES
    assert listed["TSM-SSH"].policy in {"on", "off", "automatic"}
    assert isinstance(listed["DCUI"].running, bool)


def test_start_stop_restart_change_running(vcsim_host: Any) -> None:
    svc = vcsim_host.configManager.serviceSystem
    svc.StartService(id="TSM-SSH")
    assert services(vcsim_host)["TSM-SSH"].running is True
    svc.StopService(id="TSM-SSH")
    assert services(vcsim_host)["TSM-SSH"].running is False
    svc.RestartService(id="ntpd")
    assert services(vcsim_host)["ntpd"].running is True


def test_policy_update_and_host_config_mirror(vcsim_host: Any) -> None:
    svc = vcsim_host.configManager.serviceSystem
    svc.UpdateServicePolicy(id="slpd", policy="off")
    svc.StopService(id="slpd")
    assert (services(vcsim_host)["slpd"].policy, services(vcsim_host)["slpd"].running) == ("off", False)
    mirrored = {s.key: s for s in vcsim_host.config.service.service}
    assert (mirrored["slpd"].policy, mirrored["slpd"].running) == ("off", False)


def test_unknown_service_is_not_found(vcsim_host: Any) -> None:
    with pytest.raises(vim.fault.NotFound):
        vcsim_host.configManager.serviceSystem.StartService(id="no-such-service")
    with pytest.raises(vim.fault.NotFound):
        vcsim_host.configManager.serviceSystem.UpdateServicePolicy(id="nope", policy="off")


def test_bad_policy_is_invalid_argument(vcsim_host: Any) -> None:
    with pytest.raises(vmodl.fault.InvalidArgument):
        vcsim_host.configManager.serviceSystem.UpdateServicePolicy(id="TSM", policy="sometimes")
    assert services(vcsim_host)["TSM"].policy in {"on", "off", "automatic"}


def test_required_service_cannot_be_stopped(vcsim_host: Any) -> None:
    with pytest.raises(vim.fault.InvalidState):
        vcsim_host.configManager.serviceSystem.StopService(id="vmsyslogd")
