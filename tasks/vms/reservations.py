"""Reserving the VM's resources (guide: Reserving virtual machine resources).

CPU: reservation = limit = the whole allocation (vCPUs × the host's core MHz), shares Normal.
Memory: all guest memory reserved and locked, limit equal to it, shares Normal.
Disks: shares Normal and the site's IOPS limit on every disk (the budget is checked first).
The allocation is the VM's own hardware (numCPU, memoryMB): what the client's "Maximum" means.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, StepPlan, plan_of
from securemode.results import JsonValue
from securemode.tasks.vms.inputs import check_vms_inputs
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_vm import (
    SHARES_NORMAL,
    VmView,
    core_mhz,
    disk_label,
    disk_shares_level,
    disks,
    iops_limit,
)
from securemode.vsphere.vmodl import vim


@dataclass(frozen=True)
class Wanted:
    cpu_mhz: int
    memory_mb: int
    iops: int


def _level(alloc: Any) -> str | None:
    return str(alloc.shares.level) if alloc is not None and alloc.shares is not None else None


def _value(alloc: Any, attr: str) -> JsonValue:
    value = getattr(alloc, attr, None) if alloc is not None else None
    return None if value is None else int(value)


def _shares() -> Any:
    return vim.SharesInfo(level=SHARES_NORMAL, shares=0)  # the count is ignored unless the level is custom


def _allocation(mhz_or_mb: int) -> Any:
    return vim.ResourceAllocationInfo(reservation=mhz_or_mb, limit=mhz_or_mb, shares=_shares())


def allocation_changes(vm_name: str, cpu: Any, memory: Any, locked: bool | None, wanted: Wanted,
                       control: str | None = None) -> list[Change]:
    """The CPU and memory settings that differ from the guide's values (pure); ``control``: one id for them
    all (a Conferencing Node's VM has one reservation row), else the Management Node's row per setting."""
    out = []
    for aspect, have, want in (
        ("vms.cpu.reservation", _value(cpu, "reservation"), wanted.cpu_mhz),
        ("vms.cpu.limit", _value(cpu, "limit"), wanted.cpu_mhz),
        ("vms.cpu.shares", _level(cpu), SHARES_NORMAL),
        ("vms.memory.reservation", _value(memory, "reservation"), wanted.memory_mb),
        ("vms.memory.limit", _value(memory, "limit"), wanted.memory_mb),
        ("vms.memory.shares", _level(memory), SHARES_NORMAL),
    ):
        if have != want:
            kind = aspect.split(".")[1]
            setting = f"config.{kind}Allocation.{aspect.rsplit('.', 1)[1]}"
            row = control or aspect
            out.append(change(row, vm_name, setting, have, want))
    if not locked:
        out.append(change(control or "vms.memory.reservation", vm_name, "config.memoryReservationLockedToMax",
                          bool(locked), True))
    return out


def disk_changes(vm_name: str, vm_disks: list[Any], iops: int,
                 control: str | None = None) -> list[tuple[Any, list[Change]]]:
    """Per disk, the shares and IOPS-limit settings that differ (pure)."""
    out = []
    for disk in vm_disks:
        label = disk_label(disk)
        found = []
        level = disk_shares_level(disk)
        if level != SHARES_NORMAL:
            found.append(change(control or "vms.disk.shares", vm_name, f"{label}.storageIOAllocation.shares", level,
                                SHARES_NORMAL))
        limit = iops_limit(disk)
        if limit != iops:
            found.append(change(control or "vms.disk.iops-limit", vm_name, f"{label}.storageIOAllocation.limit",
                                limit, iops))
        if found:
            out.append((disk, found))
    return out


def _disk_edit(disk: Any, iops: int) -> Any:
    alloc = disk.storageIOAllocation or vim.StorageResourceManager.IOAllocationInfo()
    alloc.limit = iops
    alloc.shares = _shares()
    disk.storageIOAllocation = alloc
    return vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)


def _apply(vm: VmView, spec: Any) -> None:
    wait_for_task(vm.ref.ReconfigVM_Task(spec=spec), f"reservations of VM {vm.name}")


def plan_reservations(vm: VmView, wanted: Wanted, control: str | None = None) -> list[Planned]:
    """One reconfigure carrying every allocation and disk change, or nothing."""
    cfg = vm.config
    changes = allocation_changes(vm.name, cfg.cpuAllocation, cfg.memoryAllocation,
                                 cfg.memoryReservationLockedToMax, wanted, control)
    per_disk = disk_changes(vm.name, disks(vm), wanted.iops, control)
    if not changes and not per_disk:
        return []
    spec = vim.vm.ConfigSpec(
        cpuAllocation=_allocation(wanted.cpu_mhz),
        memoryAllocation=_allocation(wanted.memory_mb),
        memoryReservationLockedToMax=True,
        deviceChange=[_disk_edit(disk, wanted.iops) for disk, _ in per_disk],
    )
    return [Planned(action=partial(_apply, vm, spec),
                    changes=tuple(changes + [c for _, found in per_disk for c in found]))]


def predicted_changes(vm_name: str, wanted: Wanted, control: str | None = None) -> list[Change]:
    """Plan before the VM exists: every setting goes from the OVA's default (unknown) to the guide's value."""
    return [change(c.control, vm_name, c.setting, None, c.desired)
            for c in allocation_changes(vm_name, None, None, None, wanted, control)] + [
        change(control or "vms.disk.shares", vm_name, "every disk.storageIOAllocation.shares", None, SHARES_NORMAL),
        change(control or "vms.disk.iops-limit", vm_name, "every disk.storageIOAllocation.limit", None, wanted.iops)]


def vm_must_exist(name: str) -> None:
    """What a run does about a VM that is not there yet: the deploy step must run first."""
    raise LookupError(f"VM {name} does not exist; the deploy step must run first")


def ensure_reservations(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    site = ctx.site.site
    node = site.management_node
    session = resources.enter_context(open_site_session(ctx.site))
    inputs = check_vms_inputs(session, ctx.site, ctx.apply)
    mhz = core_mhz(inputs.host)
    vm = inputs.vm
    if vm is None:
        if ctx.apply:
            vm_must_exist(node.name)
        predicted = predicted_changes(node.name, Wanted(node.vm.cpus * mhz, node.vm.memory_mb, node.vm.disk_iops_limit))
        return plan_of(Planned(action=partial(vm_must_exist, node.name), changes=tuple(predicted)))
    hw = vm.config.hardware
    wanted = Wanted(cpu_mhz=hw.numCPU * mhz, memory_mb=hw.memoryMB, iops=node.vm.disk_iops_limit)
    return plan_of(*plan_reservations(vm, wanted))
