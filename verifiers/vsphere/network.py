"""Probes of the host's networking: physical NICs, separation of management and VM traffic, VLANs,
and the vSwitch security policy as it applies to every port group.
"""

from __future__ import annotations

from securemode.results import Result, probe
from securemode.verifiers.vsphere.reader import HostReader

MIN_PNICS = 2


def pnic_count(control: str, target: str, reader: HostReader, minimum: int = MIN_PNICS) -> Result:
    with probe(control, target, expected=f">= {minimum}") as p:
        pnics = list(reader.network.pnics)
        p.log(f"config.network.pnic = {pnics}")
        p.check(len(pnics) >= minimum, pnics, f"{len(pnics)} physical NIC(s); the guide expects at least {minimum}")
    return p.result


def separate_pnics(control: str, target: str, reader: HostReader, management_pg: str, vm_pg: str) -> Result:
    """The management and VM port groups use disjoint pNICs, and no port group with VMs shares the management pNICs."""
    with probe(control, target, expected="disjoint pNIC sets") as p:
        net = reader.network
        mgmt = set(net.pnics_of_portgroup(management_pg))
        vm = set(net.pnics_of_portgroup(vm_pg))
        with_vms = sorted({nic.backing.deviceName for v in reader.host_vms for nic in v.config.hardware.device
                           if getattr(getattr(nic, "backing", None), "deviceName", None) in net.portgroups})
        mixed = [pg for pg in with_vms if set(net.pnics_of_portgroup(pg)) & mgmt]
        seen = {"management": sorted(mgmt), "vm": sorted(vm), "shared": sorted(mgmt & vm),
                "vm_port_groups_on_management_pnics": mixed}
        p.log(f"{management_pg} -> {sorted(mgmt)}; {vm_pg} -> {sorted(vm)}; port groups with VMs: {with_vms}")
        if not mgmt or not vm:
            p.failed(seen, "the management or the VM port group has no physical NIC (or does not exist)")
        else:
            p.check(not (mgmt & vm) and not mixed, seen, "management and VM traffic share physical NICs")
    return p.result


def port_group_vlans(control: str, target: str, reader: HostReader, forbidden: set[int]) -> Result:
    """No port group uses a forbidden VLAN (4095, or the site's reserved list)."""
    with probe(control, target, expected=f"no port group on VLAN {sorted(forbidden)}") as p:
        vlans = {pg.name: pg.vlan for pg in reader.network.portgroups.values()}
        bad = {name: vlan for name, vlan in vlans.items() if vlan in forbidden}
        p.log(f"port group VLANs: {vlans}")
        p.check(not bad, vlans, f"port groups on forbidden VLANs: {bad}")
    return p.result


def vswitch_security(control: str, target: str, reader: HostReader, field: str) -> Result:
    """``field`` is false on every vSwitch and in the effective policy of every port group."""
    with probe(control, target, expected={field: False}) as p:
        net = reader.network
        seen: dict[str, object] = {}
        for vs in net.vswitches.values():
            sec = vs.spec.policy.security if vs.spec.policy else None
            seen[f"vswitch {vs.name}"] = getattr(sec, field, None) if sec else None
        for pg in net.portgroups.values():
            inherited = seen.get(f"vswitch {pg.vswitch}")
            override = pg.spec.policy.security if pg.spec.policy else None
            computed = getattr(pg.computed_security, field, None) if pg.computed_security else None
            set_here = getattr(override, field, None) if override else None
            seen[f"portgroup {pg.name}"] = next((v for v in (computed, set_here, inherited) if v is not None), None)
        bad = sorted(name for name, value in seen.items() if value is not False)
        p.log(f"{field}: {seen}")
        p.check(not bad, seen, f"{field} is not rejected on: {', '.join(bad)}")
    return p.result
