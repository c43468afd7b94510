"""The deployment file a worker_vm create returns: provisioning XML, or a node-specific OVA.

Both carry the node's bootstrap configuration; the OVA is an OVF descriptor with the configuration as
OVF properties, a manifest and a tiny placeholder disk, enough for a hypervisor twin to import [?].
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import Any
from xml.sax.saxutils import escape, quoteattr

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
    name = values["name"] or "node"
    props = "".join(
        f'      <Property ovf:key={quoteattr(k)} ovf:type="string" ovf:value={quoteattr(v)}/>\n'
        for k, v in values.items()
    )
    rasd = 'xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"'
    hardware = "".join(
        f"      <Item><rasd:ResourceType {rasd}>{kind}</rasd:ResourceType>"
        f"<rasd:VirtualQuantity {rasd}>{escape(values[key])}</rasd:VirtualQuantity></Item>\n"
        for kind, key in (("3", "vm_cpu_count"), ("4", "vm_system_memory"))
    )
    ovf = f"""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References><File ovf:href="{escape(name)}-disk1.vmdk" ovf:id="file1"/></References>
  <VirtualSystem ovf:id={quoteattr(name)}>
    <Name>{escape(name)}</Name>
    <ProductSection ovf:class="com.pexip.infinity.conferencing_node">
      <Product>Pexip Infinity Conferencing Node</Product>
{props}    </ProductSection>
    <VirtualHardwareSection>
{hardware}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
""".encode()
    disk = b"# twin placeholder disk\n"
    members = [(f"{name}.ovf", ovf), (f"{name}-disk1.vmdk", disk)]
    manifest = "".join(f"SHA256({n})= {hashlib.sha256(d).hexdigest()}\n" for n, d in members).encode()
    members.append((f"{name}.mf", manifest))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for member_name, data in members:
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def deployment_file(ctx: Ctx, obj: dict[str, Any]) -> Created:
    values = _bootstrap(ctx, obj)
    if obj.get("deployment_type") in ctx.config.ova_deployment_types:
        return Created(ova(values), "application/octet-stream", f"pexip-{values['name']}.ova")
    return Created(provisioning_xml(values), "application/xml", f"pexip-{values['name']}.xml")
