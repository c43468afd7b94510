"""A full property dump of a simulator's inventory, to prove that `plan` changes nothing."""

from __future__ import annotations

from typing import Any

from pyVmomi import VmomiSupport

from securemode.vsphere.vmodl import vim, vmodl


def plain(value: Any) -> Any:
    """A pyVmomi value as plain JSON-like data (managed objects by type and moid)."""
    if isinstance(value, VmomiSupport.ManagedObject):
        return f"{type(value).__name__}:{value._moId}"
    if isinstance(value, VmomiSupport.DataObject):
        out = {p.name: plain(getattr(value, p.name)) for p in value._GetPropertyList()}  # type: ignore[no-untyped-call]
        out["_type"] = type(value).__name__
        return out
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _properties(content: Any, obj: Any) -> dict[str, Any]:
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(obj), all=True)])
    return {p.name: plain(p.val) for r in content.propertyCollector.RetrieveContents([spec]) for p in r.propSet}


def full_dump(si: Any) -> dict[str, Any]:
    """Every property of every inventory object and of the host's configuration managers, plus lockdown exceptions."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ManagedEntity], True)
    objects = [content.rootFolder, *view.view]
    view.Destroy()
    out: dict[str, Any] = {}
    for obj in objects:
        out[f"{type(obj).__name__}:{obj._moId}"] = _properties(content, obj)
        if isinstance(obj, vim.HostSystem):
            cm = obj.configManager
            for mgr in (cm.networkSystem, cm.serviceSystem, cm.dateTimeSystem, cm.hostAccessManager,
                        cm.advancedOption):
                out[f"{type(mgr).__name__}:{mgr._moId}"] = _properties(content, mgr)
            out["lockdownExceptions"] = list(cm.hostAccessManager.QueryLockdownExceptions())
    return out
