"""Powering the fallback's VMs on at a failover (the guide's "remain off until required" has come)."""

from __future__ import annotations

from collections.abc import Sequence

from securemode.vsphere import VSphereNotFound, wait_for_task
from securemode.vsphere.power import POWERED_ON, PowerReader


def plan_power_on(reader: PowerReader, names: Sequence[str]) -> list[str]:
    """Read only: the named VMs not running; a missing one raises (the fallback must exist)."""
    missing = [name for name in names if reader.read(name) is None]
    if missing:
        raise VSphereNotFound(f"fallback VM(s) {', '.join(missing)} not found in vSphere")
    return [name for name in names if (vm := reader.read(name)) is not None and vm.state != POWERED_ON]


def apply_power_on(reader: PowerReader, names: Sequence[str]) -> None:
    """Power each named VM on (in order) and read it back running."""
    for name in names:
        vm = reader.read(name)
        if vm is None:
            raise VSphereNotFound(f"fallback VM {name} disappeared before its power on")
        if vm.state != POWERED_ON:
            wait_for_task(vm.ref.PowerOnVM_Task(), f"power-on of VM {name}")
        after = reader.reread(vm).state
        if after != POWERED_ON:
            raise RuntimeError(f"fallback VM {name} is {after} after its power on")
