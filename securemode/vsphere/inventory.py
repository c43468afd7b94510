"""Finding inventory objects by name; a missing one raises :class:`VSphereNotFound` naming what exists."""

from __future__ import annotations

from typing import Any

from securemode.vsphere.errors import VSphereNotFound
from securemode.vsphere.vmodl import vim, vmodl


def objects_of(content: Any, kind: Any, root: Any = None) -> list[Any]:
    """Every managed object of ``kind`` below ``root`` (default: the whole inventory), by moid order."""
    view = content.viewManager.CreateContainerView(root or content.rootFolder, [kind], True)
    try:
        return sorted(view.view, key=lambda o: o._moId)
    finally:
        view.Destroy()


def find_host(content: Any, name: str | None) -> Any:
    """The host called ``name``; with no name, the only host (an error when there are several)."""
    hosts = objects_of(content, vim.HostSystem)
    if name is None:
        if len(hosts) == 1:
            return hosts[0]
        names = ", ".join(h.name for h in hosts) or "none"
        raise VSphereNotFound(f"{len(hosts)} ESXi hosts in the inventory ({names}); set vsphere.esxi_host")
    for host in hosts:
        if host.name == name:
            return host
    raise VSphereNotFound(f"ESXi host '{name}' not in the inventory (hosts: {', '.join(h.name for h in hosts)})")


def datacenter_of(entity: Any) -> Any:
    """The datacenter an inventory object lives in."""
    node = entity
    while node is not None and not isinstance(node, vim.Datacenter):
        node = node.parent
    if node is None:
        raise VSphereNotFound(f"{entity.name} is in no datacenter")
    return node


def datastore_names(host: Any) -> list[str]:
    return sorted(ds.name for ds in host.datastore)


def find_datastore(host: Any, name: str) -> Any | None:
    """A datastore mounted on ``host`` by name, or None."""
    return next((ds for ds in host.datastore if ds.name == name), None)


def find_network(host: Any, name: str) -> Any | None:
    """The Network object (standard port group) called ``name`` on ``host``, or None."""
    return next((n for n in host.network if n.name == name), None)


def names_of(content: Any, kind: Any) -> dict[str, Any]:
    """Name → object for every object of ``kind``, read in one round trip (first by moid wins)."""
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        pc = vmodl.query.PropertyCollector
        traverse = pc.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
        spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                             propSet=[pc.PropertySpec(type=kind, pathSet=["name"], all=False)])
        found = sorted(((r.obj._moId, r.propSet[0].val, r.obj) for r in content.propertyCollector.RetrieveContents(
            [spec]) or [] if r.propSet), key=lambda t: t[0])
    finally:
        view.Destroy()
    out: dict[str, Any] = {}
    for _moid, name, obj in found:
        out.setdefault(name, obj)
    return out


def find_vm(content: Any, name: str) -> Any | None:
    """The VM called ``name`` anywhere in the inventory, or None (names are unique per folder on ESXi)."""
    return names_of(content, vim.VirtualMachine).get(name)
