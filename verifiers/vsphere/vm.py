"""Probes of a node's VM: deployed where and as big as the site says, its VLAN, its reservations, limits
and shares, the host's IOPS budget, its boot options, and the BIOS password attestation.
"""

from __future__ import annotations

from typing import Any

from securemode import attestations as attestation_store
from securemode.results import JsonValue, Probe, Result, probe
from securemode.site import RESERVED_GUEST_TAGGING_VLAN
from securemode.verifiers.vsphere.reader import HostReader
from securemode.vsphere.desired_vm import (
    SHARES_NORMAL,
    boot_order_keys,
    disk_label,
    disk_shares_level,
    disks,
    enter_bios_setup,
    iops_limit,
    nic_network,
    nics,
    scsi00_disk,
)

ALLOCATION_ASPECTS = ("cpu.reservation", "cpu.limit", "cpu.shares", "memory.reservation", "memory.limit",
                      "memory.shares", "disk.shares", "disk.iops-limit")


def _vm_or_fail(p: Probe, reader: HostReader, name: str) -> Any | None:
    p.log(f"find VM {name}")
    vm = reader.vm(name)
    if vm is None:
        p.failed(None, f"VM {name} does not exist")
    return vm


def vm_present(control: str, target: str, reader: HostReader, datastore: str, cpus: int, memory_mb: int) -> Result:
    expected = {"datastore": datastore, "numCPU": cpus, "memoryMB": memory_mb}
    with probe(control, target, expected=expected) as p:
        vm = _vm_or_fail(p, reader, target)
        if vm is not None:
            hw = vm.config.hardware
            seen = {"datastores": sorted(ds.name for ds in vm.datastore), "numCPU": hw.numCPU,
                    "memoryMB": hw.memoryMB, "powerState": str(vm.runtime.powerState)}
            ok = datastore in seen["datastores"] and (hw.numCPU, hw.memoryMB) == (cpus, memory_mb)
            p.check(ok, seen, f"VM {target} is not on {datastore} with {cpus} vCPU / {memory_mb} MB")
    return p.result


def vm_vlan(control: str, target: str, reader: HostReader, port_group: str, vlan: int, reserved: set[int]) -> Result:
    """Every NIC is on the site's port group, whose VLAN is the site's, never 4095 nor reserved."""
    with probe(control, target, expected={"port_group": port_group, "vlan": vlan}) as p:
        vm = _vm_or_fail(p, reader, target)
        if vm is not None:
            groups = reader.network.portgroups
            seen = [{"nic": n.deviceInfo.label if n.deviceInfo else n.key, "port_group": nic_network(n),
                     "vlan": groups[nic_network(n) or ""].vlan if (nic_network(n) or "") in groups else None}
                    for n in nics(vm)]
            p.log(f"NICs: {seen}")
            bad = [s for s in seen if s["port_group"] != port_group or s["vlan"] != vlan
                   or s["vlan"] == RESERVED_GUEST_TAGGING_VLAN or s["vlan"] in reserved]
            if not seen:
                p.failed(seen, f"VM {target} has no network adapter")
            else:
                p.check(not bad, seen, f"NICs not on {port_group} / VLAN {vlan}: {bad}")
    return p.result


def _allocation_value(vm: Any, aspect: str, core_mhz: int, iops: int) -> tuple[JsonValue, JsonValue]:
    """(observed, expected) for one aspect of the guide's reservation rules."""
    cfg = vm.config
    kind, what = aspect.split(".")
    if kind == "disk":
        vm_disks = disks(vm)
        if what == "shares":
            return {disk_label(d): disk_shares_level(d) for d in vm_disks}, {disk_label(d): SHARES_NORMAL
                                                                             for d in vm_disks}
        return {disk_label(d): iops_limit(d) for d in vm_disks}, {disk_label(d): iops for d in vm_disks}
    alloc = cfg.cpuAllocation if kind == "cpu" else cfg.memoryAllocation
    full = cfg.hardware.numCPU * core_mhz if kind == "cpu" else cfg.hardware.memoryMB
    if what == "shares":
        return (str(alloc.shares.level) if alloc and alloc.shares else None), SHARES_NORMAL
    value = getattr(alloc, what, None) if alloc else None
    observed: JsonValue = None if value is None else int(value)
    if kind == "memory" and what == "reservation":
        locked = bool(cfg.memoryReservationLockedToMax)
        return {"reservation": observed, "lockedToMax": locked}, {"reservation": full, "lockedToMax": True}
    return observed, full


def vm_allocation(control: str, target: str, reader: HostReader, aspect: str, iops: int) -> Result:
    """One aspect (e.g. ``cpu.reservation``) of the guide's reservation, limit and shares rules."""
    if aspect not in ALLOCATION_ASPECTS:
        raise ValueError(f"unknown allocation aspect {aspect}")
    with probe(control, target) as p:
        vm = _vm_or_fail(p, reader, target)
        if vm is not None:
            observed, expected = _allocation_value(vm, aspect, reader.core_mhz, iops)
            p.expected = expected
            p.log(f"{aspect}: observed {observed}, expected {expected}")
            if aspect.startswith("disk.") and not observed:
                p.failed(observed, f"VM {target} has no disks")
            else:
                p.check(observed == expected, observed, f"{aspect} is {observed}, not {expected}")
    result = p.result
    return result.model_copy(update={"expected": p.expected})


def iops_budget(control: str, target: str, reader: HostReader, budget: int) -> Result:
    """The IOPS limits of every disk of every VM on the host add up to at most the budget; none is unlimited."""
    with probe(control, target, expected=f"<= {budget}") as p:
        per_vm: dict[str, int] = {}
        unlimited = []
        for vm in reader.host_vms:
            for disk in disks(vm):
                limit = iops_limit(disk)
                if limit is None:
                    unlimited.append(f"{vm.name}/{disk_label(disk)}")
                else:
                    per_vm[vm.name] = per_vm.get(vm.name, 0) + limit
        total = sum(per_vm.values())
        seen = {"sum": total, "by_vm": per_vm, "unlimited": unlimited}
        p.log(f"IOPS limits on the host: {seen}")
        if unlimited:
            p.failed(seen, f"disks without an IOPS limit: {', '.join(unlimited)}")
        else:
            p.check(total <= budget, seen, f"IOPS limits add up to {total}, above {budget}")
    return p.result


def vm_boot_options(control: str, target: str, reader: HostReader, aspect: str, site_name: str,
                    password_control: str) -> Result:
    """``boot-order``: the SCSI (0:0) disk boots first. ``force-setup``: BIOS setup is forced on the next boot,
    or — ESXi clears the flag once setup was entered — the BIOS work has been attested.
    """
    with probe(control, target) as p:
        vm = _vm_or_fail(p, reader, target)
        if vm is not None and aspect == "boot-order":
            disk = scsi00_disk(vm)
            order = boot_order_keys(vm)
            p.expected = {"first": {"disk": disk.key} if disk else "disk SCSI (0:0)"}
            p.log(f"bootOrder = {order}; SCSI (0:0) disk = {disk.key if disk else None}")
            ok = disk is not None and bool(order) and order[0] == {"disk": disk.key}
            p.check(ok, order, "the SCSI (0:0) disk is not the first boot device")
        elif vm is not None:
            flag = enter_bios_setup(vm)
            attested = attestation_store.find(attestation_store.load(site_name), password_control, target)
            p.expected = {"enterBIOSSetup": True, "or": f"{password_control} attested"}
            seen = {"enterBIOSSetup": flag, "bios_attested": attested is not None}
            p.log(f"enterBIOSSetup = {flag}; BIOS work attested: {attested is not None}")
            p.check(flag or attested is not None, seen, "BIOS setup is not forced for the next boot")
    return p.result.model_copy(update={"expected": p.expected})


def bios_password_attestation(control: str, target: str, site_name: str) -> Result:
    """No API reaches the BIOS: MANUAL, with the recorded attestation attached when a person gave one."""
    with probe(control, target, expected="attested by a person") as p:
        found = attestation_store.find(attestation_store.load(site_name), control, target)
        p.log("attestation: " + (f"by {found.who} at {found.at.isoformat()}" if found else "none recorded"))
        p.manual("a BIOS Supervisor password is set (BIOS Security page); no API can read it")
    return p.result.model_copy(update={"attestation": found})
