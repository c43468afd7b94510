"""A VM's power state read on its own, and the two ways to stop a VM: a guest shutdown or a hard power off.

Reading and changing are separate calls so that a planner reads without writing and an applier re-reads
after it wrote. Nothing is cached: every read asks the host again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from securemode.vsphere.inventory import find_vm
from securemode.vsphere.properties import read_paths
from securemode.vsphere.session import VSphereSession
from securemode.vsphere.vmodl import fault_text, vmodl
from securemode.vsphere.waiting import wait_for_task

POWERED_ON = "poweredOn"
POWERED_OFF = "poweredOff"
SUSPENDED = "suspended"
TOOLS_RUNNING = "guestToolsRunning"


@dataclass(frozen=True)
class VmPower:
    """One read of a VM's power state and of whether its guest tools run (needed for a guest shutdown)."""

    ref: Any
    name: str
    state: str
    tools: str | None  # guest.toolsRunningStatus; None when the host does not report it


def read_vm_power(vm: Any) -> VmPower:
    """The power state and guest tools status of ``vm`` (one round trip)."""
    props = read_paths(vm, ["name", "runtime.powerState", "guest.toolsRunningStatus"])
    tools = props.get("guest.toolsRunningStatus")
    return VmPower(
        ref=vm,
        name=str(props.get("name", "")),
        state=str(props.get("runtime.powerState")),
        tools=None if tools is None else str(tools),
    )


class PowerReader:
    """Fresh reads of VM power states through one session."""

    def __init__(self, session: VSphereSession) -> None:
        self.session = session

    def read(self, name: str) -> VmPower | None:
        """The VM called ``name``, or None when the inventory has none."""
        found = find_vm(self.session.content, name)
        return None if found is None else read_vm_power(found)

    def reread(self, vm: VmPower) -> VmPower:
        """The same VM read again (by reference: a rename in between does not lose it)."""
        return read_vm_power(vm.ref)


def request_guest_shutdown(vm: VmPower) -> str | None:
    """Ask the guest OS to shut down (returns at once; the VM powers off when the guest is done).

    None when the host accepted the request, else the fault that refused it (ESXi refuses with
    ToolsUnavailable when the guest tools do not run, InvalidPowerState when the VM is not on).
    """
    try:
        vm.ref.ShutdownGuest()
    except vmodl.MethodFault as fault:
        return fault_text(fault)
    return None


def power_off(vm: VmPower, timeout_s: float = 120.0) -> None:
    """Power the VM off at once (like pulling the plug) and wait for the task."""
    wait_for_task(vm.ref.PowerOffVM_Task(), f"power-off of VM {vm.name}", timeout_s)
