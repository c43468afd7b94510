"""Deploying each registered Conferencing Node's OVA (guide: Manually deploying a Conferencing Node on an
ESXi host): checked, imported with ImportVApp and the lease upload, sized and attached to the site's VM
port group. Nodes import concurrently, at most ``vsphere.max_concurrent_deploys`` at once, each on its
own vSphere session; an existing VM is never redeployed.

Upload progress is logged per node (``node NAME: upload N%``). The stored OVA is deleted only once its VM is
imported (its registration is spent), so a VM found next to a stored OVA is ours and unfinished (the
engine was killed during the upload): the next run names it, removes it (it never ran: one that is
powered on is refused) and imports the node again from the stored OVA; no second VM is made.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from securemode.engine import EngineContext, Planned, StepPlan, plan_of
from securemode.parallel import run_bounded
from securemode.problems import InputError, Problem
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.inputs import NodesInputs, check_nodes_inputs
from securemode.tasks.nodes.ova_store import checked_ova, discard_ova
from securemode.tasks.nodes.rows import DEPLOYED, VLAN
from securemode.tasks.nodes.survey import NodeFacts, NodeState, read_facts
from securemode.tasks.vms.deploy import import_node_vm, plan_vm_shape
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.changes import change
from securemode.vsphere.desired_vm import view_vm
from securemode.vsphere.inventory import find_vm
from securemode.vsphere.ova import OvaPackage
from securemode.vsphere.ovf_import import ImportPlan, OvfRejected, import_spec, limit_disks
from securemode.vsphere.session import VSphereSession

log = logging.getLogger("securemode.tasks.nodes")
log.setLevel(logging.INFO)  # progress is INFO: shown in the run log (a Prefect extra logger), not filtered out
PROGRESS_STEP = 10  # percent between two progress lines


@dataclass(frozen=True)
class NodeImport:
    facts: NodeFacts
    package: OvaPackage
    plan: ImportPlan


def progress_reporter(name: str) -> Any:
    """Log the upload of one node every PROGRESS_STEP percent (and at 100)."""
    last = [-PROGRESS_STEP]

    def report(pct: int) -> None:
        if pct - last[0] >= PROGRESS_STEP or pct == 100:
            last[0] = pct
            log.info("node %s: upload %d%%", name, pct)

    return report


def _import_one(loaded: LoadedSite, item: NodeImport) -> str:
    with open_site_session(loaded) as session:
        if item.facts.state is NodeState.HALF_IMPORTED:
            left = find_vm(session.content, item.facts.name)
            if left is not None:
                wait_for_task(left.Destroy_Task(), f"removal of VM {item.facts.name} (an unfinished import)")
        import_node_vm(session, session.host(), item.package, item.plan, progress_reporter(item.facts.name))
    discard_ova(loaded, item.facts.name)  # imported: its single-use registration is spent
    return item.facts.name


def _import_all(loaded: LoadedSite, session: VSphereSession, items: list[NodeImport], network: Any | None) -> StepPlan:
    """Import the nodes concurrently under the site's limit, then plan each new VM's size and NIC."""
    names = run_bounded(
        [partial(_import_one, loaded, item) for item in items],
        loaded.site.vsphere.max_concurrent_deploys,
        "node-deploy",
    )
    planned: list[Planned] = []
    notes: list[str] = []
    nodes = {item.facts.name: item.facts.node for item in items}
    for name in names:
        found = find_vm(session.content, name)
        if found is None:
            raise LookupError(f"VM {name} is not on the host after its import")
        planned += plan_vm_shape(view_vm(found), nodes[name], loaded.site, network, notes, DEPLOYED, VLAN)
    return plan_of(*planned, notes=notes)


def _imports(
    loaded: LoadedSite,
    session: VSphereSession,
    inputs: NodesInputs,
    pending: list[NodeFacts],
    packages: dict[str, OvaPackage],
) -> list[NodeImport]:
    """Ask the host to validate every descriptor (changes nothing); refuse the OVAs it rejects."""
    out, problems = [], []
    for f in pending:
        try:
            plan = import_spec(
                session,
                packages[f.name],
                vm_name=f.name,
                pool=inputs.host.parent.resourcePool,
                datastore=inputs.datastore,
                network=inputs.network,
            )
        except OvfRejected as exc:
            discard_ova(loaded, f.name)
            problems.append(
                Problem(
                    field=f.field,
                    message=f"the host rejects the OVA generated for {f.name}: {exc}",
                    fix="run again for a fresh OVA; if the host rejects it again, check the ESXi "
                    "version against the deployment type",
                )
            )
            continue
        limit_disks(plan, f.node.vm.disk_iops_limit)  # the IOPS budget holds even for an import cut short
        out.append(NodeImport(f, packages[f.name], plan))
    if problems:
        raise InputError(str(loaded.path), problems)
    return out


def _predicted(f: NodeFacts, loaded: LoadedSite) -> Any:
    vs = loaded.site.vsphere
    current = "from an import that did not finish" if f.state is NodeState.HALF_IMPORTED else None
    return change(
        DEPLOYED,
        f.name,
        "vm",
        current,
        {
            "ova": "generated by the Management Node",
            "datastore": vs.datastore,
            "port_group": vs.networks.vm.port_group,
            "cpus": f.node.vm.cpus,
            "memory_mb": f.node.vm.memory_mb,
        },
    )


def _not_registered(name: str) -> None:
    raise LookupError(f"{name} has no stored OVA: the registrations step must run first")


def ensure_node_vms(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Import every registered node that has no VM yet; size and attach the VMs that exist."""
    loaded = ctx.site
    seen = read_facts(ctx, resources)
    session = seen.session
    pending = [f for f in seen.facts if f.vm is None or f.state is NodeState.HALF_IMPORTED]
    packages = {f.name: checked_ova(loaded, f.name, f.field) for f in pending if f.ova is not None}
    inputs = check_nodes_inputs(loaded, session, seen.facts, ctx.apply, packages=packages)
    planned: list[Planned] = []
    notes = list(seen.notes) + [
        f"{DEPLOYED} [{f.name}]: half-deployed ({f.state.value}): the VM is removed and "
        "the node imported again from its stored OVA"
        for f in pending
        if f.state is NodeState.HALF_IMPORTED
    ]
    ready = [f for f in pending if f.name in packages]
    if ready:
        items = _imports(loaded, session, inputs, ready, packages)
        planned.append(
            Planned(
                action=partial(_import_all, loaded, session, items, inputs.network),
                changes=tuple(_predicted(f, loaded) for f in ready),
            )
        )
    for f in pending:
        if f.name not in packages:
            if ctx.apply:
                _not_registered(f.name)
            planned.append(Planned(action=partial(_not_registered, f.name), changes=(_predicted(f, loaded),)))
    for f in seen.facts:
        if f.vm is not None and f.state is not NodeState.HALF_IMPORTED:
            planned += plan_vm_shape(f.vm, f.node, loaded.site, inputs.network, notes, DEPLOYED, VLAN)
    return plan_of(*planned, notes=notes)
