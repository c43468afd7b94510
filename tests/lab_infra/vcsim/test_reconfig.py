"""ReconfigVM_Task: ESXi's value checks, merged allocations, IOPS, shares, boot options."""

from __future__ import annotations

from typing import Any

import pytest
from pyVmomi import vim, vmodl

from securemode.infra.vcsim.pytest_fixtures import run_task

Alloc = vim.ResourceAllocationInfo
Shares = vim.SharesInfo


def reconfig(vm: Any, **spec: Any) -> None:
    run_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(**spec)))


def disk_of(vm: Any) -> Any:
    return next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))


def test_reservation_limit_and_shares_round_trip(vcsim_vm: Any) -> None:
    reconfig(
        vcsim_vm,
        cpuAllocation=Alloc(reservation=2000, limit=4000, shares=Shares(level="high")),
        memoryAllocation=Alloc(reservation=32, limit=-1, shares=Shares(level="custom", shares=4242)),
    )
    cpu, mem = vcsim_vm.config.cpuAllocation, vcsim_vm.config.memoryAllocation
    assert (cpu.reservation, cpu.limit, cpu.shares.level) == (2000, 4000, "high")
    assert cpu.shares.shares == 2000 * vcsim_vm.config.hardware.numCPU  # ESXi computes named levels
    assert (mem.reservation, mem.limit, mem.shares.shares) == (32, -1, 4242)
    assert vcsim_vm.summary.config.cpuReservation == 2000


def test_partial_allocation_merges(vcsim_vm: Any) -> None:
    reconfig(vcsim_vm, cpuAllocation=Alloc(reservation=1000, limit=3000, shares=Shares(level="normal")))
    reconfig(vcsim_vm, cpuAllocation=Alloc(limit=5000))
    cpu = vcsim_vm.config.cpuAllocation
    assert (cpu.reservation, cpu.limit, cpu.shares.level) == (1000, 5000, "normal")


@pytest.mark.parametrize("kind", ["cpuAllocation", "memoryAllocation"])
def test_reservation_above_limit_is_refused_without_change(vcsim_vm: Any, kind: str) -> None:
    before = getattr(vcsim_vm.config, kind)
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfig(vcsim_vm, **{kind: Alloc(reservation=64, limit=16)}, annotation="must not apply")
    after = getattr(vcsim_vm.config, kind)
    assert (after.reservation, after.limit) == (before.reservation, before.limit)
    assert vcsim_vm.config.annotation != "must not apply"


def test_bad_values_are_refused(vcsim_vm: Any) -> None:
    mem = vcsim_vm.config.hardware.memoryMB
    for spec in [
        {"memoryAllocation": Alloc(reservation=mem + 4)},
        {"cpuAllocation": Alloc(shares=Shares(level="custom", shares=0))},
        {"memoryMB": 3},
        {"numCPUs": 3, "numCoresPerSocket": 2},
    ]:
        with pytest.raises(vmodl.fault.InvalidArgument):
            reconfig(vcsim_vm, **spec)


def test_memory_reservation_locked_to_max(vcsim_vm: Any) -> None:
    reconfig(vcsim_vm, memoryReservationLockedToMax=True)
    assert vcsim_vm.config.memoryReservationLockedToMax is True
    assert vcsim_vm.config.memoryAllocation.reservation == vcsim_vm.config.hardware.memoryMB
    reconfig(vcsim_vm, memoryMB=64)
    assert vcsim_vm.config.memoryAllocation.reservation == 64
    reconfig(vcsim_vm, memoryReservationLockedToMax=False, memoryAllocation=Alloc(reservation=0))


def test_disk_iops_limit_and_shares_round_trip(vcsim_vm: Any) -> None:
    disk = disk_of(vcsim_vm)
    disk.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(limit=500, shares=Shares(level="low"))
    change = vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)
    reconfig(vcsim_vm, deviceChange=[change])
    io = disk_of(vcsim_vm).storageIOAllocation
    assert (io.limit, io.shares.level, io.shares.shares) == (500, "low", 500)


@pytest.mark.parametrize("limit", [0, -2])
def test_bad_iops_limit_is_refused(vcsim_vm: Any, limit: int) -> None:
    disk = disk_of(vcsim_vm)
    disk.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(limit=limit)
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfig(vcsim_vm, deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])


def test_boot_order_and_bios_setup_round_trip(vcsim_vm: Any) -> None:
    disk = disk_of(vcsim_vm)
    order = [vim.vm.BootOptions.BootableDiskDevice(deviceKey=disk.key)]
    reconfig(vcsim_vm, bootOptions=vim.vm.BootOptions(bootOrder=order, enterBIOSSetup=True))
    boot = vcsim_vm.config.bootOptions
    assert boot.enterBIOSSetup is True
    assert [b.deviceKey for b in boot.bootOrder] == [disk.key]
    reconfig(vcsim_vm, bootOptions=vim.vm.BootOptions(bootDelay=3000))
    boot = vcsim_vm.config.bootOptions
    assert (boot.bootDelay, boot.enterBIOSSetup, len(boot.bootOrder)) == (3000, True, 1)


def test_boot_order_naming_a_missing_disk_is_refused(vcsim_vm: Any) -> None:
    order = [vim.vm.BootOptions.BootableDiskDevice(deviceKey=987654)]
    with pytest.raises(vmodl.fault.InvalidArgument):
        reconfig(vcsim_vm, bootOptions=vim.vm.BootOptions(bootOrder=order))


def test_extra_config_is_replaced_in_place_and_empty_deletes(vcsim_vm: Any) -> None:
    opt = vim.option.OptionValue
    reconfig(vcsim_vm, extraConfig=[opt(key="isolation.tools.copy.disable", value="true")])
    reconfig(vcsim_vm, extraConfig=[opt(key="isolation.tools.copy.disable", value="false")])
    values = [o.value for o in vcsim_vm.config.extraConfig if o.key == "isolation.tools.copy.disable"]
    assert values == ["false"]
    reconfig(vcsim_vm, extraConfig=[opt(key="isolation.tools.copy.disable", value="")])
    assert all(o.key != "isolation.tools.copy.disable" for o in vcsim_vm.config.extraConfig)
