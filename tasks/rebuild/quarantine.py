"""Quarantine a compromised VM without losing evidence: pull its power (a compromised guest is not asked to
shut itself down), disconnect every vNIC (also at power-on), snapshot it where the site asks, then rename it
``<name>-quarantine-<UTC stamp>`` so the redeploy makes a fresh VM under the node's name. Nothing is deleted.

:func:`read_quarantine` only reads; :func:`quarantine_vm` changes one VM, each part only when it is not done
yet, so a quarantine killed half-way finishes on the next run (the VM is found by its old or its new name).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from securemode.vsphere import VSphereSession, wait_for_task
from securemode.vsphere.desired_vm import nics
from securemode.vsphere.inventory import find_vm
from securemode.vsphere.power import POWERED_OFF, read_vm_power
from securemode.vsphere.vmodl import vim

log = logging.getLogger("securemode.tasks.rebuild.quarantine")
SNAPSHOT_PREFIX = "forensics-"


def quarantine_name(name: str, stamp: str) -> str:
    return f"{name}-quarantine-{stamp}"


@dataclass(frozen=True)
class VmQuarantine:
    """What one VM still needs (read, nothing changed)."""

    name: str  # the node's name
    new_name: str
    vm: Any | None  # None: no VM by either name
    powered_on: bool
    connected_nics: int
    snapshotted: bool
    renamed: bool

    def pending(self, snapshot: bool) -> list[str]:
        if self.vm is None:
            return []
        return [
            part
            for part, todo in (
                ("power off", self.powered_on),
                ("disconnect vNICs", self.connected_nics > 0),
                ("snapshot", snapshot and not self.snapshotted),
                ("rename", not self.renamed),
            )
            if todo
        ]


def _connected(nic: Any) -> bool:
    conn = nic.connectable
    return bool(conn is not None and (conn.connected or conn.startConnected))


def _snapshots(vm: Any) -> list[str]:
    names: list[str] = []
    pending = list(vm.snapshot.rootSnapshotList) if vm.snapshot else []
    while pending:
        tree = pending.pop()
        names.append(str(tree.name))
        pending.extend(tree.childSnapshotList or [])
    return names


def read_quarantine(session: VSphereSession, name: str, stamp: str) -> VmQuarantine:
    """The VM of node ``name`` (under its own name, or already renamed) and what its quarantine lacks."""
    new_name = quarantine_name(name, stamp)
    renamed_vm = find_vm(session.content, new_name)
    vm = renamed_vm if renamed_vm is not None else find_vm(session.content, name)
    if vm is None:
        return VmQuarantine(name, new_name, None, False, 0, False, False)
    return VmQuarantine(
        name,
        new_name,
        vm,
        powered_on=read_vm_power(vm).state != POWERED_OFF,
        connected_nics=sum(1 for nic in nics(vm) if _connected(nic)),
        snapshotted=any(s.startswith(SNAPSHOT_PREFIX + stamp) for s in _snapshots(vm)),
        renamed=renamed_vm is not None,
    )


def quarantine_vm(session: VSphereSession, found: VmQuarantine, snapshot: bool, reason: str, stamp: str) -> list[str]:
    """Do what ``found`` lacks, in order; returns the parts done."""
    vm, done = found.vm, list[str]()
    if vm is None:
        return done
    if found.powered_on:
        wait_for_task(vm.PowerOffVM_Task(), f"power-off of VM {found.name}")
        done.append("power off")
    if found.connected_nics:
        _disconnect(vm, found.name)
        done.append("disconnect vNICs")
    if snapshot and not found.snapshotted:
        task = vm.CreateSnapshot_Task(
            name=f"{SNAPSHOT_PREFIX}{stamp}", description=f"quarantined: {reason}"[:500], memory=False, quiesce=False
        )
        wait_for_task(task, f"forensic snapshot of VM {found.name}")
        done.append("snapshot")
    if not found.renamed:
        wait_for_task(vm.Rename_Task(newName=found.new_name), f"rename of VM {found.name}")
        done.append("rename")
    log.info("VM %s quarantined as %s: %s", found.name, found.new_name, ", ".join(done) or "nothing left to do")
    return done


def _disconnect(vm: Any, name: str) -> None:
    changes = []
    for nic in nics(vm):
        if not _connected(nic):
            continue
        nic.connectable.connected = False
        nic.connectable.startConnected = False
        changes.append(
            vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.edit, device=nic)
        )
    if changes:
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes)), f"vNIC disconnect of {name}")
