"""Ways to break each setting behind the engine's back, through someone else's pyVmomi session.

Each break returns the controls whose verifiers must then report FAIL (usually exactly one; a few
settings legitimately feed several controls, and those are listed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyVmomi import VmomiSupport

from securemode.catalogue.host import ADVANCED_OPTIONS, SERVICES
from securemode.infra.vcsim import VcsimOptions
from securemode.vsphere import wait_for_task
from securemode.vsphere.vmodl import vim

Break = Callable[[Any, Any], None]  # (host, vm)


@dataclass(frozen=True)
class Drift:
    name: str
    fails: frozenset[str]
    apply: Break
    engine_repairs: bool = True  # False: the engine reports it but leaves the fix to a person
    undo: Break | None = None


def _option(key: str) -> Break:
    def apply(host: Any, _vm: Any) -> None:
        manager = host.configManager.advancedOption
        value = manager.QueryOptions(key)[0].value
        kind = next(d.optionType for d in manager.supportedOption if d.key == key)
        if isinstance(kind, vim.option.BoolOption):
            new: Any = not value
        elif isinstance(kind, vim.option.LongOption | vim.option.IntOption):
            number = value - 1 if value - 1 >= kind.min else value + 1
            new = VmomiSupport.vmodlTypes["long"](number) if isinstance(kind, vim.option.LongOption) else int(number)
        else:
            new = f"{value}-tampered"
        manager.UpdateOptions(changedValue=[vim.option.OptionValue(key=key, value=new)])
    return apply


def _service(key: str, how: str) -> Break:
    def apply(host: Any, _vm: Any) -> None:
        system = host.configManager.serviceSystem
        if how == "start":
            system.StartService(id=key)
        else:
            system.UpdateServicePolicy(id=key, policy="on")
    return apply


def _portgroup(name: str, **changes: Any) -> Break:
    def apply(host: Any, _vm: Any) -> None:
        pg = next(p for p in host.config.network.portgroup if p.spec.name == name)
        spec = pg.spec
        for key, value in changes.items():
            if key in ("allowPromiscuous", "macChanges", "forgedTransmits"):
                spec.policy.security = spec.policy.security or vim.host.NetworkPolicy.SecurityPolicy()
                setattr(spec.policy.security, key, value)
            else:
                setattr(spec, key, value)
        host.configManager.networkSystem.UpdatePortGroup(pgName=name, portgrp=spec)
    return apply


def _add_portgroup(name: str, vlan: int) -> Break:
    def apply(host: Any, _vm: Any) -> None:
        host.configManager.networkSystem.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
            name=name, vlanId=vlan, vswitchName="vSwitch1", policy=vim.host.NetworkPolicy()))
    return apply


def _remove_portgroup(name: str) -> Break:
    def apply(host: Any, _vm: Any) -> None:
        host.configManager.networkSystem.RemovePortGroup(pgName=name)
    return apply


def _vswitch0_forged(host: Any, _vm: Any) -> None:
    vs = next(v for v in host.config.network.vswitch if v.name == "vSwitch0")
    spec = vs.spec
    spec.policy.security.forgedTransmits = True
    host.configManager.networkSystem.UpdateVirtualSwitch(vswitchName="vSwitch0", spec=spec)


def _ntp(host: Any, _vm: Any) -> None:
    host.configManager.dateTimeSystem.UpdateDateTimeConfig(config=vim.host.DateTimeConfig(
        ntpConfig=vim.host.NtpConfig(server=["198.51.100.7"])))


def _exceptions(host: Any, _vm: Any) -> None:
    # the engine's own account stays (else the locked-down host refuses the verifier's login: ERROR, not FAIL)
    host.configManager.hostAccessManager.UpdateLockdownExceptions(users=[VcsimOptions().username, "intruder"])


def _unlock(host: Any, _vm: Any) -> None:
    host.configManager.hostAccessManager.ChangeLockdownMode(mode="lockdownDisabled")


def host_drifts() -> list[Drift]:
    drifts = [
        Drift("VM port group moved to the management vSwitch", frozenset({"host.pnics.separate"}),
              _portgroup("Pexip Network", vswitchName="vSwitch0")),
        Drift("VM port group re-tagged 4095", frozenset({"host.vlan.no-4095"}), _portgroup("Pexip Network",
                                                                                            vlanId=4095)),
        Drift("VM port group on reserved VLAN 1003", frozenset({"host.vlan.not-reserved"}),
              _portgroup("Pexip Network", vlanId=1003)),
        Drift("foreign port group on VLAN 4095", frozenset({"host.vlan.no-4095"}), _add_portgroup("Rogue", 4095),
              engine_repairs=False, undo=_remove_portgroup("Rogue")),
        Drift("foreign port group on reserved VLAN 1002", frozenset({"host.vlan.not-reserved"}),
              _add_portgroup("Rogue", 1002), engine_repairs=False, undo=_remove_portgroup("Rogue")),
        Drift("vSwitch0 accepts forged transmits", frozenset({"host.stig.ESXI-80-000216"}), _vswitch0_forged),
        Drift("NTP servers replaced", frozenset({"host.stig.ESXI-80-000124"}), _ntp),
        Drift("an extra lockdown exception user", frozenset({"host.stig.ESXI-80-000201"}), _exceptions),
        Drift("lockdown mode left", frozenset({"host.stig.ESXI-80-000008"}), _unlock),
    ]
    for control, fld in (("host.stig.ESXI-80-000216", "forgedTransmits"), ("host.stig.ESXI-80-000217", "macChanges"),
                         ("host.stig.ESXI-80-000218", "allowPromiscuous")):
        drifts.append(Drift(f"port group override {fld}", frozenset({control}), _portgroup("Pexip Network",
                                                                                          **{fld: True})))
    drifts += [Drift(f"option {key}", frozenset({f"host.stig.{sid}"}), _option(key))
               for sid, _title, key, _value in ADVANCED_OPTIONS]
    drifts += [Drift(f"service {key} {how}", frozenset({f"host.stig.{sid}"}), _service(key, how))
               for (sid, _title, key), how in zip(SERVICES, ("start", "policy", "start", "policy"), strict=True)]
    return drifts


def _reconfig(**spec: Any) -> Break:
    def apply(_host: Any, vm: Any) -> None:
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(**spec)), "break")
    return apply


def _powered_off_reconfig(**spec: Any) -> Break:
    """A person powers the VM off and resizes it (a running VM cannot be resized): the engine resizes it back
    and powers it on again."""
    def apply(_host: Any, vm: Any) -> None:
        if vm.runtime.powerState == "poweredOn":
            wait_for_task(vm.PowerOffVM_Task(), "break")
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(**spec)), "break")
    return apply


def _disk(**io: Any) -> Break:
    def apply(_host: Any, vm: Any) -> None:
        disk = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
        for key, value in io.items():
            setattr(disk.storageIOAllocation, key, value)
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])), "break")
    return apply


def _nic_to(network_name: str) -> Break:
    def apply(host: Any, vm: Any) -> None:
        nic = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard))
        network = next(n for n in host.network if n.name == network_name)
        nic.backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=network_name, network=network)
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)])), "break")
    return apply


def _shares(level: str) -> Any:
    return vim.SharesInfo(level=level, shares=0)


def vm_drifts(core_mhz: int) -> list[Drift]:
    return [
        Drift("VM shrunk to 2 vCPU", frozenset({"vms.ova.deployed", "vms.cpu.reservation", "vms.cpu.limit"}),
              _powered_off_reconfig(numCPUs=2)),
        Drift("NIC moved to VM Network", frozenset({"vms.network.vlan"}), _nic_to("VM Network")),
        Drift("CPU reservation lowered", frozenset({"vms.cpu.reservation"}),
              _reconfig(cpuAllocation=vim.ResourceAllocationInfo(reservation=core_mhz))),
        Drift("CPU unlimited", frozenset({"vms.cpu.limit"}), _reconfig(cpuAllocation=vim.ResourceAllocationInfo(
            limit=-1))),
        Drift("CPU shares high", frozenset({"vms.cpu.shares"}), _reconfig(cpuAllocation=vim.ResourceAllocationInfo(
            shares=_shares("high")))),
        Drift("memory no longer locked", frozenset({"vms.memory.reservation"}), _reconfig(
            memoryReservationLockedToMax=False, memoryAllocation=vim.ResourceAllocationInfo(reservation=1024))),
        Drift("memory unlimited", frozenset({"vms.memory.limit"}), _reconfig(
            memoryAllocation=vim.ResourceAllocationInfo(limit=-1))),
        Drift("memory shares low", frozenset({"vms.memory.shares"}), _reconfig(
            memoryAllocation=vim.ResourceAllocationInfo(shares=_shares("low")))),
        Drift("disk shares high", frozenset({"vms.disk.shares"}), _disk(shares=_shares("high"))),
        Drift("disk IOPS limit lowered", frozenset({"vms.disk.iops-limit"}), _disk(limit=500)),
        Drift("disk IOPS limit above the budget", frozenset({"vms.disk.iops-limit", "vms.disk.iops-budget"}),
              _disk(limit=20000)),
        Drift("BIOS setup no longer forced", frozenset({"vms.bios.force-setup"}), _reconfig(
            bootOptions=vim.vm.BootOptions(enterBIOSSetup=False))),
        Drift("CD-ROM boots first", frozenset({"vms.bios.boot-order"}), _reconfig(
            bootOptions=vim.vm.BootOptions(bootOrder=[vim.vm.BootOptions.BootableCdromDevice()]))),
    ]
