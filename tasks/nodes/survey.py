"""What is there for each Conferencing Node: its registration (``worker_vm``), its VM on the host, its
stored OVA and its status on the Management Node. Reads only.

A node is *complete* with both a registration and a VM; *absent* with neither; *half-deployed* with one
of them (the plan names it, and the steps finish it or refuse with the fix). A VM whose node's OVA is still
stored came from an import that did not finish (the engine deletes the OVA once the import completes,
and is killed, if at all, before): *half-imported*, removed and imported again.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from securemode.engine import EngineContext
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.pexip.errors import PexipError
from securemode.site import ConferencingNode
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.ova_store import stored_ova
from securemode.vsphere import open_site_session
from securemode.vsphere.desired_vm import VmView, view_vm
from securemode.vsphere.inventory import names_of
from securemode.vsphere.session import VSphereSession
from securemode.vsphere.vmodl import vim

STATUS_PATH = "/api/admin/status/v1/worker_vm/"
DEPLOYED_STATUS = "DEPLOYED"
SYNCED_STATUS = "SYNCED"


class NodeState(StrEnum):
    COMPLETE = "complete"
    HALF_IMPORTED = "VM from an import that did not finish"
    ABSENT = "absent"
    VM_ONLY = "VM without registration"
    REGISTERED_ONLY = "registration without VM"


@dataclass(frozen=True)
class NodeFacts:
    """One Conferencing Node of the site as found."""

    index: int
    node: ConferencingNode
    registration: dict[str, Any] | None
    vm: VmView | None
    ova: Path | None
    status: dict[str, Any] | None

    @property
    def field(self) -> str:
        return f"conferencing_nodes[{self.index}]"

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def state(self) -> NodeState:
        if self.registration is not None and self.vm is not None:
            return NodeState.HALF_IMPORTED if self.ova is not None else NodeState.COMPLETE
        if self.registration is not None:
            return NodeState.REGISTERED_ONLY
        return NodeState.VM_ONLY if self.vm is not None else NodeState.ABSENT

    @property
    def deploy_status(self) -> str | None:
        return str(self.status.get("deploy_status")) if self.status else None

    @property
    def sync_status(self) -> str | None:
        return str(self.status.get("sync_status")) if self.status else None

    @property
    def running(self) -> bool:
        """The node reports in to the Management Node (from wherever it runs)."""
        return self.deploy_status == DEPLOYED_STATUS


def registrations(api: ManagementApi) -> list[dict[str, Any]]:
    return list(api.iter_objects("worker_vm"))


def statuses(api: ManagementApi) -> dict[str, dict[str, Any]]:
    """Each registered node's status row by name (a node appears once the Management Node reports it)."""
    return {str(row.get("name")): row for row in api.iter_objects(STATUS_PATH)}


def registration_of(node: ConferencingNode, found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The worker_vm carrying the node's name (the stage registers it under that name)."""
    return next((r for r in found if r.get("name") == node.name), None)


def address_taken_by(node: ConferencingNode, found: list[dict[str, Any]]) -> str | None:
    """The name of another registration at this node's address, if any (a clash the create would hit)."""
    return next(
        (str(r.get("name")) for r in found if r.get("address") == str(node.address) and r.get("name") != node.name),
        None,
    )


def survey(
    loaded: LoadedSite, found: list[dict[str, Any]], status: Mapping[str, dict[str, Any]], session: VSphereSession
) -> list[NodeFacts]:
    vms = names_of(session.content, vim.VirtualMachine)
    out = []
    for i, node in enumerate(loaded.site.conferencing_nodes):
        vm = vms.get(node.name)
        out.append(
            NodeFacts(
                index=i,
                node=node,
                registration=registration_of(node, found),
                vm=view_vm(vm) if vm is not None else None,
                ova=stored_ova(loaded, node.name),
                status=status.get(node.name),
            )
        )
    return out


@dataclass(frozen=True)
class Seen:
    """What a step read: the facts per node, every registration, the open vSphere session, and notes."""

    facts: list[NodeFacts]
    registrations: list[dict[str, Any]]
    session: VSphereSession
    notes: tuple[str, ...] = ()


def read_facts(ctx: EngineContext, resources: ExitStack) -> Seen:
    """Open a vSphere session and a Management API session (kept open on ``resources``) and survey the nodes.

    A plan (nothing applied) of a deployment whose Management Node does not answer yet plans from the host
    alone, as if no node were registered, and says so; a run needs the Management Node.
    """
    loaded = ctx.site
    session = resources.enter_context(open_site_session(loaded))
    try:
        api = resources.enter_context(management_api(loaded))
        found, status = registrations(api), statuses(api)
    except (PexipError, OSError, ValueError) as exc:
        if ctx.apply:
            raise
        note = (
            f"the Management Node does not answer yet ({type(exc).__name__}); the plan assumes no Conferencing "
            "Node is registered"
        )
        return Seen(survey(loaded, [], {}, session), [], session, (note,))
    return Seen(survey(loaded, found, status, session), found, session)
