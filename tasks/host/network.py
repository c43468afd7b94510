"""The VM network and the vSwitch security policy (guide: Securing the host environment; STIG 000216–218).

The engine builds the VM side only: the site's VM vSwitch on the site's VM pNICs and its port group on
the site's VLAN. It never re-cables, re-tags or moves the management network (that would cut its own
access); a management network that differs from the site is bad input, reported before any change.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.problems import InputError, Problem
from securemode.site import RESERVED_GUEST_TAGGING_VLAN, Site
from securemode.vsphere import host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import SECURITY_FIELDS
from securemode.vsphere.host_state import NetworkState, read_network
from securemode.vsphere.vmodl import vim

SEPARATE = "host.pnics.separate"
NO_4095 = "host.vlan.no-4095"
NOT_RESERVED = "host.vlan.not-reserved"
VSWITCH_PORTS = 128


def network_problems(site: Site, state: NetworkState) -> list[Problem]:
    """What in the site cannot be built on this host without touching the management network."""
    nets = site.vsphere.networks
    mgmt, vm = nets.management, nets.vm
    problems: list[Problem] = []
    for role, spec in (("management", mgmt), ("vm", vm)):
        missing = [p for p in spec.pnics if p not in state.pnics]
        if missing:
            problems.append(Problem(field=f"vsphere.networks.{role}.pnics",
                                    message=f"{', '.join(missing)} is not a physical NIC of the host "
                                            f"(it has {', '.join(state.pnics) or 'none'})",
                                    fix="name physical NICs the host has"))
    if vm.vswitch == mgmt.vswitch:
        problems.append(Problem(field="vsphere.networks.vm.vswitch",
                                message="the VM network uses the management vSwitch",
                                fix="give the VM network its own vSwitch on its own physical NICs"))
    pg = state.portgroups.get(mgmt.port_group)
    if pg is None:
        problems.append(Problem(field="vsphere.networks.management.port_group",
                                message=f"the host has no port group '{mgmt.port_group}'",
                                fix="name the port group of the host's management VMkernel NIC"))
    else:
        if pg.vswitch != mgmt.vswitch:
            problems.append(Problem(field="vsphere.networks.management.vswitch",
                                    message=f"'{mgmt.port_group}' is on {pg.vswitch}, not {mgmt.vswitch}",
                                    fix=f"set it to {pg.vswitch}; the engine does not move the management network"))
        if pg.vlan != mgmt.vlan:
            problems.append(Problem(field="vsphere.networks.management.vlan",
                                    message=f"'{mgmt.port_group}' is on VLAN {pg.vlan}, not {mgmt.vlan}",
                                    fix="correct the site, or re-tag the management network at the console; "
                                        "the engine does not re-tag it (lockout risk)"))
    mgmt_vs = state.vswitches.get(mgmt.vswitch)
    if mgmt_vs is not None and sorted(mgmt_vs.pnics) != sorted(mgmt.pnics):
        problems.append(Problem(field="vsphere.networks.management.pnics",
                                message=f"{mgmt.vswitch} uses {', '.join(mgmt_vs.pnics) or 'no pNIC'}, "
                                        f"not {', '.join(mgmt.pnics)}",
                                fix="correct the site; the engine does not re-cable the management vSwitch"))
    for vs in state.vswitches.values():
        taken = sorted(set(vs.pnics) & set(vm.pnics))
        if vs.name != vm.vswitch and taken:
            problems.append(Problem(field="vsphere.networks.vm.pnics",
                                    message=f"{', '.join(taken)} already carries {vs.name}",
                                    fix="use physical NICs no other vSwitch uses for the VM network"))
    return problems


def _secure_policy() -> Any:
    return vim.host.NetworkPolicy(security=vim.host.NetworkPolicy.SecurityPolicy(
        allowPromiscuous=False, macChanges=False, forgedTransmits=False))


def _vlan_control(current_vlan: int) -> str:
    return NO_4095 if current_vlan == RESERVED_GUEST_TAGGING_VLAN else NOT_RESERVED


def plan_vm_network(host: Any, site: Site, state: NetworkState, target: str) -> list[Planned]:
    """Create or correct the site's VM vSwitch and port group."""
    ns = host.configManager.networkSystem
    vm = site.vsphere.networks.vm
    planned: list[Planned] = []
    vs = state.vswitches.get(vm.vswitch)
    bridge = vim.host.VirtualSwitch.BondBridge(nicDevice=list(vm.pnics))
    if vs is None:
        spec = vim.host.VirtualSwitch.Specification(numPorts=VSWITCH_PORTS, bridge=bridge, policy=_secure_policy())
        planned.append(Planned(action=lambda: ns.AddVirtualSwitch(vswitchName=vm.vswitch, spec=spec),
                               changes=(change(SEPARATE, target, f"vswitch[{vm.vswitch}].pnic", None,
                                               list(vm.pnics)),)))
    elif sorted(vs.pnics) != sorted(vm.pnics):
        spec = vs.spec
        spec.bridge = bridge
        planned.append(Planned(action=lambda: ns.UpdateVirtualSwitch(vswitchName=vm.vswitch, spec=spec),
                               changes=(change(SEPARATE, target, f"vswitch[{vm.vswitch}].pnic", list(vs.pnics),
                                               list(vm.pnics)),)))
    pg = state.portgroups.get(vm.port_group)
    if pg is None:
        pg_spec = vim.host.PortGroup.Specification(name=vm.port_group, vlanId=vm.vlan, vswitchName=vm.vswitch,
                                                   policy=vim.host.NetworkPolicy())
        planned.append(Planned(action=lambda: ns.AddPortGroup(portgrp=pg_spec),
                               changes=(change(SEPARATE, target, f"portgroup[{vm.port_group}]", None,
                                               {"vswitch": vm.vswitch, "vlan": vm.vlan}),)))
        return planned
    changes = []
    if pg.vswitch != vm.vswitch:
        changes.append(change(SEPARATE, target, f"portgroup[{pg.name}].vswitch", pg.vswitch, vm.vswitch))
    if pg.vlan != vm.vlan:
        changes.append(change(_vlan_control(pg.vlan), target, f"portgroup[{pg.name}].vlanId", pg.vlan, vm.vlan))
    if changes:
        spec = pg.spec
        spec.vswitchName, spec.vlanId = vm.vswitch, vm.vlan
        planned.append(Planned(action=lambda: ns.UpdatePortGroup(pgName=pg.name, portgrp=spec),
                               changes=tuple(changes)))
    return planned


def foreign_vlan_notes(site: Site, state: NetworkState) -> list[str]:
    """Port groups the site does not own that break a VLAN rule: reported, never changed by the engine."""
    own = {site.vsphere.networks.management.port_group, site.vsphere.networks.vm.port_group}
    reserved = set(site.vsphere.reserved_vlans)
    notes = []
    for pg in state.portgroups.values():
        if pg.name in own:
            continue
        if pg.vlan == RESERVED_GUEST_TAGGING_VLAN:
            notes.append(f"{NO_4095}: port group '{pg.name}' uses VLAN 4095; move it to an allowed VLAN by hand")
        elif pg.vlan in reserved:
            notes.append(f"{NOT_RESERVED}: port group '{pg.name}' uses reserved VLAN {pg.vlan}; move it by hand")
    return notes


def ensure_port_groups(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """The VM network on its own vSwitch and pNICs, on the site's VLAN; bad input stops before any change."""
    site = ctx.site.site
    host = resources.enter_context(open_site_session(ctx.site)).host()
    state = read_network(host)
    problems = network_problems(site, state)
    if problems:
        raise InputError(str(ctx.site.path), problems)
    return plan_of(*plan_vm_network(host, site, state, host_target(site)), notes=foreign_vlan_notes(site, state))


def plan_security(host: Any, state: NetworkState, target: str) -> list[Planned]:
    """Every vSwitch rejects promiscuous mode, MAC changes and forged transmits; no port group overrides that."""
    ns = host.configManager.networkSystem
    planned: list[Planned] = []
    for vs in state.vswitches.values():
        policy = vs.spec.policy or vim.host.NetworkPolicy()
        sec = policy.security or vim.host.NetworkPolicy.SecurityPolicy()
        changes = tuple(change(control, target, f"vswitch[{vs.name}].{fld}", getattr(sec, fld), False)
                        for control, fld in SECURITY_FIELDS.items() if getattr(sec, fld) is not False)
        if changes:
            for fld in SECURITY_FIELDS.values():
                setattr(sec, fld, False)
            policy.security = sec
            spec = vs.spec
            spec.policy = policy
            planned.append(Planned(action=partial(ns.UpdateVirtualSwitch, vswitchName=vs.name, spec=spec),
                                   changes=changes))
    for pg in state.portgroups.values():
        sec = pg.spec.policy.security if pg.spec.policy else None
        if sec is None:
            continue
        changes = tuple(change(control, target, f"portgroup[{pg.name}].{fld}", True, "inherit (false)")
                        for control, fld in SECURITY_FIELDS.items() if getattr(sec, fld) is True)
        if changes:
            for fld in SECURITY_FIELDS.values():
                if getattr(sec, fld) is True:
                    setattr(sec, fld, None)
            spec = pg.spec
            planned.append(Planned(action=partial(ns.UpdatePortGroup, pgName=pg.name, portgrp=spec),
                                   changes=changes))
    return planned


def ensure_vswitch_security(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    host = resources.enter_context(open_site_session(ctx.site)).host()
    return plan_of(*plan_security(host, read_network(host), host_target(ctx.site.site)))
