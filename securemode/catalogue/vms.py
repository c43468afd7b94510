"""Guide: Reserving virtual machine resources, BIOS configuration, Management Node deployment."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

RES = "Reserving virtual machine resources"
BIOS = "BIOS configuration"


def _vm(cid: str, title: str, section: str, guide_text: str | None, desired: str, setting: str,
        flags: frozenset[Flag] = frozenset(),
        severity: ControlSeverity = ControlSeverity.MEDIUM) -> Control:
    return Control(id=f"vms.{cid}", title=title, stage=Stage.VMS, section=section, guide_text=guide_text,
                   target=TargetKind.VM, desired=desired, setting=setting, flags=flags, severity=severity)


CONTROLS: tuple[Control, ...] = (
    _vm("ova.deployed", "Management Node deployed from its OVA", "Pexip Infinity Management Node deployment",
        "deploy the Management Node OVA onto the selected ESXi host system",
        "VM exists on the site datastore, sized per site:management_node.vm",
        "vm.config.files"),
    _vm("network.vlan", "VM port group VLAN is not 4095 and not reserved", "Pexip Infinity Management Node deployment",
        "The VLAN ID used for the Management Node must not conflict with existing reserved VLAN IDs",
        "site:management_node.vlan", "vm.network[].vlanId", severity=ControlSeverity.HIGH),
    _vm("cpu.reservation", "CPU reservation is Maximum (all allocated MHz)", RES, "Reservation Select the menu entry "
        "labeled Maximum", "cpus × core MHz", "config.cpuAllocation.reservation"),
    _vm("cpu.limit", "CPU limit is Minimum (equal to the reservation)", RES, "Limit Select the menu entry labeled "
        "Minimum", "= reservation", "config.cpuAllocation.limit"),
    _vm("cpu.shares", "CPU shares Normal", RES, "Shares Select Normal", "normal",
        "config.cpuAllocation.shares.level"),
    _vm("memory.reservation", "All guest memory reserved (all locked)", RES, "Reserve all guest memory (All locked)",
        "= memory, locked", "config.memoryAllocation.reservation, memoryReservationLockedToMax"),
    _vm("memory.limit", "Memory limit is Minimum (equal to the reservation)", RES, "Limit Select the menu entry "
        "labeled Minimum", "= reservation", "config.memoryAllocation.limit"),
    _vm("memory.shares", "Memory shares Normal", RES, "Shares Select Normal", "normal",
        "config.memoryAllocation.shares.level"),
    _vm("disk.shares", "Every disk's shares Normal", RES, "Shares Select Normal", "normal",
        "disk.storageIOAllocation.shares.level"),
    _vm("disk.iops-limit", "Every disk has the site's IOPS limit", RES, "Limit - IOPs Enter the appropriate number",
        "site:management_node.vm.disk_iops_limit", "disk.storageIOAllocation.limit"),
    Control(id="vms.disk.iops-budget", title="Sum of IOPS limits on the host within the datastore budget",
            stage=Stage.VMS, section=RES, guide_text="The sum of all IOP limits for all VMs on the same host must "
            "not exceed the capacity of the datastore", target=TargetKind.ESXI_HOST,
            desired="site:vsphere.iops_budget", setting="Σ disk.storageIOAllocation.limit",
            severity=ControlSeverity.HIGH),
    _vm("bios.force-setup", "Force BIOS setup on the next boot", BIOS, "Force BIOS setup", "true",
        "config.bootOptions.enterBIOSSetup"),
    _vm("bios.boot-order", "Boot from the hard drive, SCSI (0:0) first", BIOS, "VMware Virtual SCSI Hard Drive (0:0) "
        "is the first entry", "disk SCSI(0:0) first", "config.bootOptions.bootOrder"),
    _vm("bios.supervisor-password", "BIOS supervisor password set", BIOS, "Configure a Supervisor password",
        "attested by a person", "BIOS Security page", flags=frozenset({Flag.MANUAL})),
)
