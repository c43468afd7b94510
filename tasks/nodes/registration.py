"""Registering each Conferencing Node on the Management Node for a manual ESXi deployment (guide:
Conferencing Node deployment) and keeping the node-specific OVA the Management Node answers with.

A node with neither registration nor VM is registered. A registration without a VM whose node never
reported in is finished by re-creating it when its OVA is not stored: the Management Node hands a node's
OVA out only in its answer to the create (there is no endpoint to fetch it again, and the OVA carries a
single-use registration), so deleting the never-deployed ``worker_vm`` and creating it again is the only
way to a deployable OVA. A registration whose node reports in from elsewhere, or a VM without a
registration, is refused by :mod:`securemode.tasks.nodes.inputs` with the fix.

The node's location must exist for the create; a location the site names and the Management Node lacks
is created by name only (the platform stage configures it).
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.site import ConferencingNode
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.inputs import check_nodes_inputs
from securemode.tasks.nodes.ova_store import checked_ova, store_ova
from securemode.tasks.nodes.rows import REGISTERED
from securemode.tasks.nodes.survey import NodeFacts, NodeState, address_taken_by, read_facts
from securemode.vsphere.changes import change

MANUAL_ESXI = "MANUAL-ESXI6"
"""Manual deployment on ESXi 6.x or later: the create answers with the node's OVA."""


def worker_body(loaded: LoadedSite, node: ConferencingNode, location_uri: str) -> dict[str, Any]:
    """The worker_vm create: the node's identity, its location, its console password, a manual ESXi type."""
    if node.node_password is None or node.gateway is None:
        raise ValueError(f"{node.name}: the inputs check lets no node without gateway or password through")
    return {
        "name": node.name,
        "hostname": node.hostname,
        "domain": node.domain,
        "address": str(node.address),
        "netmask": str(node.netmask),
        "gateway": str(node.gateway),
        "system_location": location_uri,
        "password": loaded.secret(node.node_password).get_secret_value(),
        "node_type": "CONFERENCING",
        "deployment_type": MANUAL_ESXI,
        "vm_cpu_count": node.vm.cpus,
        "vm_system_memory": node.vm.memory_mb,
        **({"alternative_fqdn": node.sip_tls_fqdn} if node.sip_tls_fqdn else {}),
        **({"ipv6_address": str(node.ipv6_address.ip)} if node.ipv6_address else {}),
        **({"ipv6_gateway": str(node.ipv6_gateway)} if node.ipv6_gateway else {}),
    }


def location_uri(api: ManagementApi, name: str) -> str:
    """The location's URI, creating it by name when the Management Node does not have it yet."""
    for loc in api.iter_objects("system_location", name=name):
        if loc.get("name") == name:
            return str(loc["resource_uri"])
    return api.create("system_location", {"name": name})


def register(loaded: LoadedSite, facts: NodeFacts) -> None:
    """(Re-)create the node's worker_vm, keep the OVA it answers with, and check that OVA's manifest."""
    with management_api(loaded) as api:
        if facts.registration is not None:
            api.delete(str(facts.registration["resource_uri"]))
        uri = location_uri(api, facts.node.location)
        _path, ova = api.create_for_file("worker_vm", worker_body(loaded, facts.node, uri))
    store_ova(loaded, facts.name, ova)
    checked_ova(loaded, facts.name, facts.field)


def _needs_registration(f: NodeFacts) -> bool:
    return f.state is NodeState.ABSENT or (f.state is NodeState.REGISTERED_ONLY and f.ova is None)


def plan_registrations(loaded: LoadedSite, facts: list[NodeFacts]) -> tuple[list[Planned], list[str]]:
    """One create per node that has no usable registration; the half-deployed ones named in notes."""
    planned, notes = [], []
    for f in facts:
        if not _needs_registration(f):
            continue
        desired = {"deployment_type": MANUAL_ESXI, "address": str(f.node.address), "location": f.node.location}
        if f.registration is None:
            current = None
        else:
            current = {"deployment_type": f.registration.get("deployment_type"), "vm": None, "ova": None}
            notes.append(
                f"{REGISTERED} [{f.name}]: half-deployed ({f.state.value}, its OVA not kept, never "
                "reported in): the registration is re-created to get a new OVA, which the Management Node "
                "hands out only on create"
            )
        planned.append(
            Planned(
                action=partial(register, loaded, f),
                changes=(change(REGISTERED, f.name, "worker_vm", current, desired),),
            )
        )
    return planned, notes


def ensure_registrations(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Register every Conferencing Node that needs it and keep its OVA; refuse what cannot be finished."""
    loaded = ctx.site
    seen = read_facts(ctx, resources)
    others = {f.name: address_taken_by(f.node, seen.registrations) for f in seen.facts}
    check_nodes_inputs(loaded, seen.session, seen.facts, ctx.apply, others)
    planned, notes = plan_registrations(loaded, seen.facts)
    return plan_of(*planned, notes=[*seen.notes, *notes])
