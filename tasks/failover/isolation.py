"""Isolating the primary at a failover, as the incident asks.

``power-off``: every primary VM shut down by its guest, then powered off after the bound (the contingency
stage's :func:`apply_power_off`). ``disconnect``: every vNIC of every primary VM disconnected (and not
connected at power on), so the VMs keep running for forensics but reach nothing. A primary VM that no
longer exists is named and left (the incident may be its loss); every change is read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from securemode.site import Site
from securemode.tasks.vms.power_off import apply_power_off
from securemode.vsphere import VSphereTaskError, wait_for_task
from securemode.vsphere.power import POWERED_OFF, PowerReader
from securemode.vsphere.vmodl import vim

POWER_OFF = "power-off"
DISCONNECT = "disconnect"
ISOLATIONS = (POWER_OFF, DISCONNECT)


@dataclass(frozen=True)
class IsolationPlan:
    """What isolating the primary will touch: the VMs to change, those already isolated, those missing."""

    isolation: str
    to_change: list[str]
    already: list[str]
    missing: list[str]

    def describe(self) -> str:
        parts = [f"{self.isolation}: {', '.join(self.to_change) or 'nothing to change'}"]
        if self.already:
            parts.append(f"already isolated: {', '.join(self.already)}")
        if self.missing:
            parts.append(f"not found in vSphere (left as they are): {', '.join(self.missing)}")
        return "; ".join(parts)


def primary_vm_names(site: Site) -> list[str]:
    """The primary's VMs: each is named after its node, the Management Node first."""
    return [node.name for node in site.nodes()]


def connected_nics(vm: Any) -> list[Any]:
    """The VM's network cards that are connected now or would connect at power on."""
    return [
        d
        for d in vm.config.hardware.device
        if isinstance(d, vim.vm.device.VirtualEthernetCard)
        and d.connectable is not None
        and (d.connectable.connected or d.connectable.startConnected)
    ]


def _isolated(reader: PowerReader, name: str, isolation: str) -> bool | None:
    vm = reader.read(name)
    if vm is None:
        return None
    if isolation == POWER_OFF:
        return vm.state == POWERED_OFF
    return not connected_nics(vm.ref)


def plan_isolation(reader: PowerReader, names: Sequence[str], isolation: str) -> IsolationPlan:
    """Read only: which of ``names`` must still be isolated ``isolation``-wise."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"unknown isolation {isolation!r}: use {' or '.join(ISOLATIONS)}")
    found = {name: _isolated(reader, name, isolation) for name in names}
    return IsolationPlan(
        isolation,
        to_change=[n for n, done in found.items() if done is False],
        already=[n for n, done in found.items() if done is True],
        missing=[n for n, done in found.items() if done is None],
    )


def _disconnect(reader: PowerReader, name: str) -> None:
    vm = reader.read(name)
    if vm is None:
        raise VSphereTaskError(f"VM {name} disappeared before its vNICs could be disconnected")
    edits = []
    for nic in connected_nics(vm.ref):
        nic.connectable.connected = False
        nic.connectable.startConnected = False
        edits.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic))
    if edits:
        wait_for_task(vm.ref.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=edits)), f"vNIC disconnect of VM {name}")


def apply_isolation(reader: PowerReader, plan: IsolationPlan, shutdown_bound_s: float) -> None:
    """Isolate every VM of the plan, then read each back; one still connected or on raises."""
    if plan.isolation == POWER_OFF:
        apply_power_off(reader, plan.to_change, shutdown_bound_s, control="failover.isolation")
    else:
        for name in plan.to_change:
            _disconnect(reader, name)
    left = [n for n in plan.to_change if _isolated(reader, n, plan.isolation) is False]
    if left:
        raise VSphereTaskError(f"primary VM(s) {', '.join(left)} not isolated ({plan.isolation}) after the change")
