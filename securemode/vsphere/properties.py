"""Reading just the properties needed, by path, through the PropertyCollector.

``host.config.network`` in pyVmomi fetches the whole ``config`` (hundreds of KB on a real host)
before picking ``network``; asking the collector for the path ``config.network`` fetches only that.
"""

from __future__ import annotations

from typing import Any

from securemode.vsphere.vmodl import vim, vmodl


def read_paths(obj: Any, paths: list[str]) -> dict[str, Any]:
    """The values of ``paths`` on ``obj`` (one round trip); an unset property is absent from the answer."""
    collector = vim.ServiceInstance("ServiceInstance", obj._stub).RetrieveContent().propertyCollector
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj, skip=False)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(obj), pathSet=paths, all=False)])
    found: dict[str, Any] = {}
    for content in collector.RetrieveContents([spec]) or []:
        for prop in content.propSet or []:
            found[prop.name] = prop.val
    return found


def read_many(objs: list[Any], paths: list[str]) -> list[dict[str, Any]]:
    """The values of ``paths`` on each of ``objs`` (all of the same type), in one round trip; in ``objs``'
    order (an object the answer leaves out gives an empty dict)."""
    if not objs:
        return []
    collector = vim.ServiceInstance("ServiceInstance", objs[0]._stub).RetrieveContent().propertyCollector
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj, skip=False) for obj in objs],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(objs[0]), pathSet=paths, all=False)])
    found: dict[str, dict[str, Any]] = {}
    for content in collector.RetrieveContents([spec]) or []:
        found[content.obj._moId] = {prop.name: prop.val for prop in content.propSet or []}
    return [found.get(obj._moId, {}) for obj in objs]


def read_path(obj: Any, path: str) -> Any:
    """One property by path, or None when it is unset."""
    return read_paths(obj, [path]).get(path)
