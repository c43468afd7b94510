"""Standard vSwitches and port groups: security policy, VLANs, pNICs, kept in sync both ways."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim, vmodl

Security = vim.host.NetworkPolicy.SecurityPolicy


def reject_all() -> Any:
    return vim.host.NetworkPolicy(security=Security(allowPromiscuous=False, macChanges=False, forgedTransmits=False))


def vswitch(host: Any, name: str, source: str = "config") -> Any:
    info = host.config.network if source == "config" else host.configManager.networkSystem.networkInfo
    return next(v for v in info.vswitch if v.name == name)


def portgroup(host: Any, name: str, source: str = "config") -> Any:
    info = host.config.network if source == "config" else host.configManager.networkSystem.networkInfo
    return next(p for p in info.portgroup if p.spec.name == name)


def test_host_has_two_pnics_by_default(vcsim_host: Any) -> None:
    assert [p.device for p in vcsim_host.config.network.pnic] == ["vmnic0", "vmnic1"]


def test_pnic_count_is_configurable(vcsim_factory: Any) -> None:
    from securemode.infra.vcsim.pytest_fixtures import connect, first_object

    sim = vcsim_factory(pnics=4, vms=0)
    si = connect(sim)
    host = first_object(si, vim.HostSystem)
    assert [p.device for p in host.config.network.pnic] == ["vmnic0", "vmnic1", "vmnic2", "vmnic3"]
    assert len({p.mac for p in host.config.network.pnic}) == 4


def test_update_vswitch_security_policy_in_both_views(vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    spec = vswitch(vcsim_host, "vSwitch0").spec
    spec.policy = reject_all()
    ns.UpdateVirtualSwitch(vswitchName="vSwitch0", spec=spec)
    for source in ("config", "networkSystem"):
        sec = vswitch(vcsim_host, "vSwitch0", source).spec.policy.security
        assert (sec.allowPromiscuous, sec.macChanges, sec.forgedTransmits) == (False, False, False)
    computed = portgroup(vcsim_host, "VM Network").computedPolicy.security
    assert (computed.macChanges, computed.forgedTransmits) == (False, False)
    assert vswitch(vcsim_host, "vSwitch0").spec.policy.nicTeaming is not None  # other parts kept


def test_management_and_vm_networks_on_different_pnics(vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    bridge = vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic1"])
    ns.AddVirtualSwitch(
        vswitchName="vSwitch1",
        spec=vim.host.VirtualSwitch.Specification(numPorts=128, bridge=bridge, policy=reject_all()),
    )
    ns.AddPortGroup(
        portgrp=vim.host.PortGroup.Specification(
            name="Pexip VM", vlanId=120, vswitchName="vSwitch1", policy=vim.host.NetworkPolicy()
        )
    )
    vs1, vs0 = vswitch(vcsim_host, "vSwitch1"), vswitch(vcsim_host, "vSwitch0")
    assert vs1.pnic == ["key-vim.host.PhysicalNic-vmnic1"]
    assert "key-vim.host.PortGroup-Pexip VM" in vs1.portgroup
    assert "key-vim.host.PortGroup-Management Network" in vs0.portgroup
    assert set(vs0.pnic).isdisjoint(vs1.pnic)
    pg = portgroup(vcsim_host, "Pexip VM", "networkSystem")
    assert (pg.spec.vlanId, pg.vswitch) == (120, "key-vim.host.VirtualSwitch-vSwitch1")
    assert any(n.name == "Pexip VM" for n in vcsim_host.network)


def test_pnic_already_bridged_is_in_use(vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    spec = vim.host.VirtualSwitch.Specification(
        numPorts=64, bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic0"])
    )
    with pytest.raises(vim.fault.ResourceInUse):
        ns.AddVirtualSwitch(vswitchName="vSwitchX", spec=spec)
    with pytest.raises(vim.fault.AlreadyExists):
        ns.AddVirtualSwitch(vswitchName="vSwitch0")


@pytest.mark.parametrize("vlan", [0, 42, 4095])
def test_update_portgroup_vlan_and_override(vcsim_host: Any, vlan: int) -> None:
    ns = vcsim_host.configManager.networkSystem
    spec = portgroup(vcsim_host, "VM Network").spec
    spec.vlanId = vlan
    spec.policy = vim.host.NetworkPolicy(security=Security(allowPromiscuous=False))
    ns.UpdatePortGroup(pgName="VM Network", portgrp=spec)
    for source in ("config", "networkSystem"):
        assert portgroup(vcsim_host, "VM Network", source).spec.vlanId == vlan


@pytest.mark.parametrize("vlan", [-1, 4096])
def test_vlan_outside_range_is_refused(vcsim_host: Any, vlan: int) -> None:
    ns = vcsim_host.configManager.networkSystem
    before = portgroup(vcsim_host, "VM Network").spec.vlanId
    spec = portgroup(vcsim_host, "VM Network").spec
    spec.vlanId = vlan
    with pytest.raises(vmodl.fault.InvalidArgument):
        ns.UpdatePortGroup(pgName="VM Network", portgrp=spec)
    with pytest.raises(vmodl.fault.InvalidArgument):
        ns.AddPortGroup(
            portgrp=vim.host.PortGroup.Specification(
                name="bad", vlanId=vlan, vswitchName="vSwitch0", policy=vim.host.NetworkPolicy()
            )
        )
    assert portgroup(vcsim_host, "VM Network").spec.vlanId == before


def test_unknown_names_are_not_found(vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    with pytest.raises(vim.fault.NotFound):
        ns.UpdateVirtualSwitch(vswitchName="nope", spec=vim.host.VirtualSwitch.Specification(numPorts=8))
    spec = vim.host.PortGroup.Specification(name="x", vlanId=1, vswitchName="vSwitch0", policy=vim.host.NetworkPolicy())
    with pytest.raises(vim.fault.NotFound):
        ns.UpdatePortGroup(pgName="nope", portgrp=spec)


def test_portgroup_with_vmkernel_nic_cannot_be_removed(vcsim_host: Any) -> None:
    with pytest.raises(vim.fault.ResourceInUse):
        vcsim_host.configManager.networkSystem.RemovePortGroup(pgName="Management Network")


def test_remove_portgroup_and_vswitch(vcsim_host: Any) -> None:
    ns = vcsim_host.configManager.networkSystem
    ns.AddVirtualSwitch(vswitchName="vSwitchTmp")
    ns.AddPortGroup(
        portgrp=vim.host.PortGroup.Specification(
            name="tmp", vlanId=7, vswitchName="vSwitchTmp", policy=vim.host.NetworkPolicy()
        )
    )
    ns.RemovePortGroup(pgName="tmp")
    assert all(p.spec.name != "tmp" for p in vcsim_host.config.network.portgroup)
    ns.RemoveVirtualSwitch(vswitchName="vSwitchTmp")
    assert all(v.name != "vSwitchTmp" for v in vcsim_host.config.network.vswitch)
