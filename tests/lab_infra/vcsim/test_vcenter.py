"""vCenter mode: every host gets its own hardening managers and option values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyVim.connect import Disconnect
from pyVmomi import VmomiSupport, vim

from securemode.infra.vcsim.pytest_fixtures import connect


@pytest.fixture
def hosts(vcsim_factory: Any) -> Iterator[list[Any]]:
    sim = vcsim_factory(mode="vcenter", hosts=1, clusters=1, cluster_hosts=2, vms=0)
    si = connect(sim)
    assert si.content.about.apiType == "VirtualCenter"
    view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.HostSystem], True)
    try:
        yield sorted(view.view, key=lambda h: h._moId)
    finally:
        Disconnect(si)


def test_each_host_has_its_own_managers(hosts: list[Any]) -> None:
    assert len(hosts) == 3
    for attr in ("serviceSystem", "dateTimeSystem", "hostAccessManager", "advancedOption", "networkSystem"):
        moids = {getattr(h.configManager, attr)._moId for h in hosts}
        assert len(moids) == 3, attr
    assert all(len(h.config.network.pnic) == 2 for h in hosts)


def test_option_change_stays_on_its_host(hosts: list[Any]) -> None:
    long_ = VmomiSupport.vmodlTypes["long"]
    first, second = hosts[0].configManager.advancedOption, hosts[1].configManager.advancedOption
    first.UpdateOptions(changedValue=[vim.option.OptionValue(key="Mem.ShareForceSalting", value=long_(1))])
    assert first.QueryOptions("Mem.ShareForceSalting")[0].value == 1
    assert second.QueryOptions("Mem.ShareForceSalting")[0].value == 2


def test_service_change_stays_on_its_host(hosts: list[Any]) -> None:
    hosts[0].configManager.serviceSystem.StartService(id="TSM-SSH")
    running = [{s.key: s.running for s in h.config.service.service}["TSM-SSH"] for h in hosts]
    assert running == [True, False, False]
