"""The host's disk IOPS budget (guide: the sum of all IOPS limits of all VMs on the same host must not
exceed the capacity of the datastore).

Projection used before any change: VMs of this site count with the limit the site gives them (per
disk); other VMs with the limits they have, and a disk without a limit makes the sum unbounded.
Site nodes not deployed yet count with one disk each (the site-file rule assumes the same), except
a node about to be deployed, which counts the disks of its OVA (the Management Node's, or a Conferencing
Node's once the Management Node generated it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from securemode.problems import Problem
from securemode.site import Site
from securemode.vsphere.desired_vm import disk_label, disks, iops_limit


@dataclass
class IopsSum:
    """Contributions to the sum, by VM, and disks that have no limit at all."""

    by_vm: dict[str, int] = field(default_factory=dict)
    unlimited: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_vm.values())


def actual_sum(host_vms: list[Any]) -> IopsSum:
    """What the host has now (what the verifier checks)."""
    out = IopsSum()
    for vm in host_vms:
        for disk in disks(vm):
            limit = iops_limit(disk)
            if limit is None:
                out.unlimited.append(f"{vm.name}/{disk_label(disk)}")
            else:
                out.by_vm[vm.name] = out.by_vm.get(vm.name, 0) + limit
    return out


def projected_sum(site: Site, host_vms: list[Any], management_disks: int,
                  node_disks: Mapping[str, int] | None = None) -> IopsSum:
    """What the host will have once every node of the site carries its limit (``node_disks``: the disk count of
    Conferencing Nodes whose OVA is known; the others count one disk)."""
    known = node_disks or {}
    nodes = {node.name: node for node in site.nodes()}
    out = IopsSum()
    present = set()
    for vm in host_vms:
        node = nodes.get(vm.name)
        if node is None:
            part = actual_sum([vm])
            out.unlimited += part.unlimited
            out.by_vm.update(part.by_vm)
            continue
        present.add(vm.name)
        out.by_vm[vm.name] = len(disks(vm)) * node.vm.disk_iops_limit
    for name, node in nodes.items():
        if name not in present:
            count = management_disks if node is site.management_node else known.get(name, 1)
            out.by_vm[name] = count * node.vm.disk_iops_limit
    return out


def budget_problems(projection: IopsSum, budget: int) -> list[Problem]:
    problems = []
    if projection.unlimited:
        problems.append(Problem(
            field="vsphere.iops_budget",
            message=f"disks on the host without an IOPS limit: {', '.join(projection.unlimited)}; the sum of "
                    "limits is unbounded",
            fix="set an IOPS limit on those disks or move their VMs to another host"))
    if projection.total > budget:
        parts = ", ".join(f"{name} {iops}" for name, iops in sorted(projection.by_vm.items()))
        problems.append(Problem(
            field="vsphere.iops_budget",
            message=f"the disk IOPS limits on the host would add up to {projection.total} ({parts}), above the "
                    f"budget of {budget}",
            fix="lower vm.disk_iops_limit of the nodes, remove other VMs' load, or set the real datastore capacity"))
    return problems
