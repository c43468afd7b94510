"""What a node's VM should look like (guide: Reserving virtual machine resources, BIOS configuration).

Shared by the tasks that enforce it and the verifiers that check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from securemode.site import NodeCommon
from securemode.vsphere.properties import read_many, read_path, read_paths
from securemode.vsphere.vmodl import vim

SHARES_NORMAL = "normal"


@dataclass(frozen=True)
class VmAllocation:
    """Reservation = limit = the whole allocation, shares Normal; every disk Normal with the IOPS limit."""

    cpus: int
    memory_mb: int
    cpu_mhz: int
    disk_iops_limit: int

    @classmethod
    def for_node(cls, node: NodeCommon, core_mhz: int) -> VmAllocation:
        return cls(cpus=node.vm.cpus, memory_mb=node.vm.memory_mb, cpu_mhz=node.vm.cpus * core_mhz,
                   disk_iops_limit=node.vm.disk_iops_limit)


@dataclass(frozen=True)
class VmView:
    """One read of a VM (name, config, datastores, runtime) in a single round trip; ``ref`` is the VM itself.

    pyVmomi fetches ``vm.config`` anew on every attribute access; the helpers below read a view instead.
    """

    ref: Any
    name: str
    config: Any
    datastore: list[Any]
    runtime: Any


VIEW_PATHS = ["name", "config", "datastore", "runtime"]


def view_vm(vm: Any) -> VmView:
    return _view(vm, read_paths(vm, VIEW_PATHS))


def view_vms(vms: list[Any]) -> list[VmView]:
    """Views of many VMs in one round trip (a host's 21 VMs one by one were 42)."""
    return [_view(vm, props) for vm, props in zip(vms, read_many(vms, VIEW_PATHS), strict=True)]


def _view(vm: Any, props: dict[str, Any]) -> VmView:
    return VmView(ref=vm, name=str(props.get("name", "")), config=props.get("config"),
                  datastore=list(props.get("datastore") or []), runtime=props.get("runtime"))


def core_mhz(host: Any) -> int:
    """The speed of one CPU core of the host, in MHz (what the client's "Maximum" reservation multiplies)."""
    return int(read_path(host, "summary.hardware.cpuMhz"))


def disks(vm: Any) -> list[Any]:
    """The VM's virtual disks, in device-key order."""
    devices = vm.config.hardware.device if vm.config else []
    return sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualDisk)), key=lambda d: d.key)


def disk_label(disk: Any) -> str:
    info = getattr(disk, "deviceInfo", None)
    return str(info.label) if info is not None and info.label else f"disk {disk.key}"


def scsi00_disk(vm: Any) -> Any | None:
    """The disk at SCSI (0:0): unit 0 on the SCSI controller with bus number 0."""
    controllers = {d.key: d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController)}
    for disk in disks(vm):
        ctrl = controllers.get(disk.controllerKey)
        if ctrl is not None and ctrl.busNumber == 0 and disk.unitNumber == 0:
            return disk
    return None


def nics(vm: Any) -> list[Any]:
    return [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard)]


def nic_network(nic: Any) -> str | None:
    """The standard port group (network name) a NIC is attached to, or None for other backings."""
    backing = nic.backing
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
        if backing.network is not None:
            return str(backing.network.name)
        return str(backing.deviceName) if backing.deviceName else None
    return None


def iops_limit(disk: Any) -> int | None:
    """A disk's IOPS limit; None when unlimited (unset or -1)."""
    alloc = disk.storageIOAllocation
    limit = alloc.limit if alloc is not None else None
    return None if limit is None or limit < 0 else int(limit)


def disk_shares_level(disk: Any) -> str | None:
    alloc = disk.storageIOAllocation
    return str(alloc.shares.level) if alloc is not None and alloc.shares is not None else None


def boot_order_keys(vm: Any) -> list[dict[str, Any]]:
    """The boot order as plain values: ``{"disk": key}``, ``{"nic": key}``, ``{"cdrom": None}``…"""
    options = vm.config.bootOptions
    out: list[dict[str, Any]] = []
    for item in (options.bootOrder if options is not None else None) or []:
        if isinstance(item, vim.vm.BootOptions.BootableDiskDevice):
            out.append({"disk": int(item.deviceKey)})
        elif isinstance(item, vim.vm.BootOptions.BootableEthernetDevice):
            out.append({"nic": int(item.deviceKey)})
        elif isinstance(item, vim.vm.BootOptions.BootableCdromDevice):
            out.append({"cdrom": None})
        else:
            out.append({"floppy": None})
    return out


def enter_bios_setup(vm: Any) -> bool:
    options = vm.config.bootOptions
    return bool(options is not None and options.enterBIOSSetup)
