"""Everything the `nodes` steps need, checked before any of them changes anything (design principle 8).

Refused, each with the field and the fix: a half-deployed node the stage cannot finish (a VM without a
registration, or a registration whose node reports in from elsewhere), an address another registration
or the host already uses, a node missing what its registration needs (gateway, console password), a
node VLAN that differs from the port group it is attached to, no datastore or port group, a datastore
without the space or IOPS budget for every node, and an OVA the host rejects. VLAN 4095 and reserved
VLANs are refused when the site file is loaded (:func:`securemode.site_rules.vlan_rules`).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from securemode.problems import InputError, Problem
from securemode.secrets import SecretError
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.survey import NodeFacts, NodeState
from securemode.tasks.vms.budget import budget_problems, projected_sum
from securemode.tasks.vms.deploy import POWERED_OFF
from securemode.tasks.vms.inputs import placement_problems
from securemode.vsphere.desired_vm import view_vm
from securemode.vsphere.ova import OvaPackage
from securemode.vsphere.properties import read_path

GIB = 1 << 30


@dataclass(frozen=True)
class NodesInputs:
    """The host, datastore and VM port group the steps work on (the port group is None only in plan
    mode, before the host stage made it)."""

    host: Any
    datastore: Any
    network: Any | None


def half_deployed_problems(facts: Sequence[NodeFacts]) -> list[Problem]:
    """Half-deployed nodes the stage cannot finish on its own."""
    problems = []
    for f in facts:
        if f.state is NodeState.VM_ONLY:
            problems.append(
                Problem(
                    field=f.field,
                    message=f"VM {f.name} is on the host but no worker_vm {f.name} is registered on the "
                    "Management Node: the VM came from an OVA whose single-use registration is gone, so it can never "
                    "register",
                    fix=f"power VM {f.name} off and remove it from the host, then run again: the stage "
                    "registers the node and deploys it afresh",
                )
            )
        elif f.state is NodeState.HALF_IMPORTED and f.vm is not None and str(f.vm.runtime.powerState) != POWERED_OFF:
            problems.append(
                Problem(
                    field=f.field,
                    message=f"VM {f.name} came from an import that did not finish (its OVA is still "
                    f"stored), yet it is {f.vm.runtime.powerState}",
                    fix=f"power VM {f.name} off and run again: the stage removes it and imports the node again",
                )
            )
        elif f.state is NodeState.REGISTERED_ONLY and f.running:
            problems.append(
                Problem(
                    field=f.field,
                    message=f"worker_vm {f.name} reports {f.deploy_status} to the Management Node, but no "
                    f"VM {f.name} is on this site's host: the node runs somewhere else",
                    fix=f"move VM {f.name} to this host, or delete its worker_vm on the Management Node if that "
                    "node is gone, or give this site's node another name",
                )
            )
    return problems


def registration_problems(
    loaded: LoadedSite, facts: Sequence[NodeFacts], others: Mapping[str, str | None]
) -> list[Problem]:
    """What a worker_vm create needs: a free address, a gateway, and a console password that resolves."""
    problems = []
    for f in facts:
        if f.state not in (NodeState.ABSENT, NodeState.REGISTERED_ONLY):
            continue
        taken = others.get(f.name)
        if taken:
            problems.append(
                Problem(
                    field=f"{f.field}.address",
                    message=f"address {f.node.address} is already "
                    f"registered on the Management Node as worker_vm {taken}",
                    fix=f"give {f.name} its own address, or delete worker_vm {taken}",
                )
            )
        if f.node.gateway is None:
            problems.append(
                Problem(
                    field=f"{f.field}.gateway",
                    message=f"{f.name} has no gateway; the Management Node needs one to generate the node's OVA",
                    fix="set the node's gateway",
                )
            )
        if f.node.node_password is None:
            problems.append(
                Problem(
                    field=f"{f.field}.node_password",
                    message=f"{f.name} has no console password; the Management Node needs one to register the node",
                    fix="set node_password to a secret reference",
                )
            )
        else:
            try:
                loaded.secret(f.node.node_password)
            except SecretError as exc:
                problems.append(
                    Problem(field=f"{f.field}.node_password", message=str(exc), fix="make the secret reference resolve")
                )
    return problems


def host_addresses(host: Any) -> set[str]:
    """The host's own IP addresses (its VMkernel NICs)."""
    vnics = read_path(host, "config.network.vnic") or []
    return {str(v.spec.ip.ipAddress) for v in vnics if v.spec and v.spec.ip and v.spec.ip.ipAddress}


def address_problems(loaded: LoadedSite, host_ips: set[str]) -> list[Problem]:
    """A Conferencing Node address that is the host's own (the site rules already keep nodes apart)."""
    site = loaded.site
    taken = set(host_ips)
    with contextlib.suppress(ValueError):  # a host name: its addresses are the VMkernel NICs'
        taken.add(str(ipaddress.ip_address(site.vsphere.host)))
    return [
        Problem(
            field=f"conferencing_nodes[{i}].address",
            message=f"{node.address} is an address of the ESXi host itself",
            fix="give the node an address of its own on the VM network",
        )
        for i, node in enumerate(site.conferencing_nodes)
        if str(node.address) in taken
    ]


def vlan_problems(loaded: LoadedSite) -> list[Problem]:
    vm_net = loaded.site.vsphere.networks.vm
    return [
        Problem(
            field=f"conferencing_nodes[{i}].vlan",
            message=f"VLAN {node.vlan} differs from VLAN {vm_net.vlan} "
            f"of the port group the VM is attached to ({vm_net.port_group})",
            fix="make the node's vlan and vsphere.networks.vm.vlan the same",
        )
        for i, node in enumerate(loaded.site.conferencing_nodes)
        if node.vlan != vm_net.vlan
    ]


def space_problems(datastore_name: str, free_bytes: int, needs: Mapping[str, int]) -> list[Problem]:
    """The datastore holds every node about to be imported (thick disks take their full capacity)."""
    total = sum(needs.values())
    if total <= free_bytes:
        return []
    parts = ", ".join(f"{name} {size / GIB:.1f} GiB" for name, size in sorted(needs.items()))
    return [
        Problem(
            field="vsphere.datastore",
            message=f"datastore '{datastore_name}' has {free_bytes / GIB:.1f} GiB "
            f"free; the nodes to deploy need {total / GIB:.1f} GiB ({parts})",
            fix="free space on the datastore, or name a larger one in vsphere.datastore",
        )
    ]


def check_nodes_inputs(
    loaded: LoadedSite,
    session: Any,
    facts: Sequence[NodeFacts],
    apply: bool,
    others: Mapping[str, str | None] | None = None,
    packages: Mapping[str, OvaPackage] | None = None,
) -> NodesInputs:
    """Read what the steps need and raise InputError naming every problem; reads only, never writes.

    ``others``: per node, another registration at its address; ``packages``: the checked OVAs of the nodes
    about to be imported (their disks count in the space and IOPS budgets).
    """
    site = loaded.site
    host = session.host()
    problems = half_deployed_problems(facts) + registration_problems(loaded, facts, others or {})
    problems += address_problems(loaded, host_addresses(host)) + vlan_problems(loaded)
    placement, datastore, network = placement_problems(host, site, apply)
    problems += placement
    known = packages or {}
    if datastore is not None and known:
        free = int(read_path(datastore, "summary.freeSpace") or 0)
        problems += space_problems(site.vsphere.datastore, free, {n: p.capacity_bytes for n, p in known.items()})
    node_disks = {name: package.disks for name, package in known.items()}
    projection = projected_sum(site, [view_vm(v) for v in host.vm], 1, node_disks)
    problems += budget_problems(projection, site.vsphere.iops_budget)
    if problems:
        raise InputError(str(loaded.path), problems)
    return NodesInputs(host=host, datastore=datastore, network=network)
