"""Find the site's nodes and locations among the Management API's objects (reading only).

The Management Node is matched by address (the installation wizard names it ``hostname.domain``);
Conferencing Nodes by name, then by address, since the nodes stage creates them with the site's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from securemode.pexip.client import ManagementApi
from securemode.pexip.errors import PexipError
from securemode.pexip.models import NodeVm, SystemLocation
from securemode.site import ConferencingNode, NodeCommon, Site


class NotOnPlatform(PexipError):
    """A node or location the site names does not exist on the Management Node yet."""


@dataclass(frozen=True)
class PlacedNode:
    """A site node and its object on the Management Node (None when it is not there yet)."""

    node: NodeCommon
    vm: NodeVm | None
    resource: str  # management_vm | worker_vm

    @property
    def is_management(self) -> bool:
        return self.resource == "management_vm"

    def require(self) -> NodeVm:
        if self.vm is None:
            raise NotOnPlatform(
                f"{self.node.name}: no {self.resource} with this name or address on the Management Node; "
                f"run the nodes stage first"
            )
        return self.vm


def management_vm(api: ManagementApi, site: Site) -> NodeVm | None:
    vms = api.list_objects(NodeVm, "management_vm")
    address = str(site.management_node.address)
    match = [vm for vm in vms if vm.address == address]
    if match:
        return match[0]
    return vms[0] if len(vms) == 1 else None


def worker_vm(api: ManagementApi, node: ConferencingNode) -> NodeVm | None:
    named = api.list_objects(NodeVm, "worker_vm", name=node.name)
    if named:
        return named[0]
    by_address = api.list_objects(NodeVm, "worker_vm", address=str(node.address))
    return by_address[0] if by_address else None


def placed_nodes(api: ManagementApi, site: Site) -> list[PlacedNode]:
    """The Management Node first, then every Conferencing Node, each with its API object."""
    out = [PlacedNode(site.management_node, management_vm(api, site), "management_vm")]
    out += [PlacedNode(node, worker_vm(api, node), "worker_vm") for node in site.conferencing_nodes]
    return out


def locations_by_name(api: ManagementApi) -> dict[str, SystemLocation]:
    return {loc.name: loc for loc in api.list_objects(SystemLocation, "system_location")}


def conferencing_first(nodes: list[PlacedNode]) -> Iterator[PlacedNode]:
    """Conferencing Nodes, then the Management Node: replacing the Management Node's certificate
    changes how the engine must trust it, so it goes last."""
    yield from (n for n in nodes if not n.is_management)
    yield from (n for n in nodes if n.is_management)
