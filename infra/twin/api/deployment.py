"""The deployment file a worker_vm create returns: provisioning XML, or a node-specific OVA.

Both carry the node's bootstrap configuration; the OVA is the lab's stand-in appliance (infra/ova: OVF
descriptor, SHA-256 manifest, stream-optimized VMDK) with the configuration as OVF properties [?].
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import escape

from securemode.infra.twin.api.spec import Created, Ctx

_BOOT_KEYS = (
    "name",
    "hostname",
    "domain",
    "address",
    "netmask",
    "gateway",
    "node_type",
    "vm_cpu_count",
    "vm_system_memory",
    "ipv6_address",
    "ipv6_gateway",
)


def _bootstrap(ctx: Ctx, obj: dict[str, Any]) -> dict[str, str]:
    values = {k: str(obj.get(k) or "") for k in _BOOT_KEYS}
    mgr = ctx.store.all("management_vm")
    values["management_node_address"] = str(mgr[0].get("address", "")) if mgr else ""
    loc = ctx.store.get("system_location", obj["system_location"]) if obj.get("system_location") else None
    values["system_location"] = loc["name"] if loc else ""
    # single-use registration secret, derived per node [?]
    values["registration_token"] = hashlib.sha256(f"{obj['id']}:{obj['name']}:{obj['address']}".encode()).hexdigest()
    return values


def provisioning_xml(values: dict[str, str]) -> bytes:
    rows = "".join(f"  <{k}>{escape(v)}</{k}>\n" for k, v in values.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<worker_vm>\n{rows}</worker_vm>\n'.encode()


def ova(values: dict[str, str]) -> bytes:
    """A node-specific OVA a vSphere host imports: the stand-in appliance sized by the node's
    ``vm_cpu_count``/``vm_system_memory``, its bootstrap values as OVF properties."""
    from securemode.infra.ova.build import OvaSpec, ova_bytes

    return ova_bytes(OvaSpec(
        name=values["name"] or "node", cpus=int(values["vm_cpu_count"] or 4),
        memory_mb=int(values["vm_system_memory"] or 4096), product="Pexip Infinity Conferencing Node",
        payload=b"securemode lab stand-in for a Pexip Infinity Conferencing Node disk\n",
        properties=tuple(values.items())))


def deployment_file(ctx: Ctx, obj: dict[str, Any]) -> Created:
    values = _bootstrap(ctx, obj)
    if obj.get("deployment_type") in ctx.config.ova_deployment_types:
        return Created(ova(values), "application/octet-stream", f"pexip-{values['name']}.ova")
    return Created(provisioning_xml(values), "application/xml", f"pexip-{values['name']}.xml")
