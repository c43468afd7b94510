"""The OVF 1.0 descriptor of the stand-in appliance: one VM, a SCSI disk, one vmxnet3 NIC, and (a
conferencing node's OVA) a ProductSection with its bootstrap values as OVF properties."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr


def product_section(product: str, properties: Sequence[tuple[str, str]]) -> str:
    """The appliance's OVF properties (a node's bootstrap values, as the Management Node writes them)."""
    if not properties:
        return ""
    rows = "".join(f'   <Property ovf:key={quoteattr(k)} ovf:type="string" ovf:value={quoteattr(v)}/>\n'
                   for k, v in properties)
    return ('\n  <ProductSection ovf:class="com.pexip.infinity.conferencing_node">'
            f"<Info>Bootstrap configuration</Info>\n   <Product>{escape(product)}</Product>\n{rows}  </ProductSection>")


def descriptor(name: str, cpus: int, memory_mb: int, disk_file: str, disk_bytes: int, capacity_gib: int,
               network: str, product: str = "Pexip Infinity Management Node",
               properties: Sequence[tuple[str, str]] = ()) -> str:
    """An OVF envelope for a single VM called ``name`` (vmx-13, guest other Linux 64-bit)."""
    n, net = escape(name), escape(network)
    products = product_section(product, properties)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
 xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
 xmlns:vmw="http://www.vmware.com/schema/ovf">
 <References><File ovf:href={quoteattr(disk_file)} ovf:id="file1" ovf:size="{disk_bytes}"/></References>
 <DiskSection><Info>Virtual disks</Info>
  <Disk ovf:capacity="{capacity_gib}" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1"
   ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
 </DiskSection>
 <NetworkSection><Info>Logical networks</Info>
  <Network ovf:name={quoteattr(network)}><Description>{net}</Description></Network></NetworkSection>
 <VirtualSystem ovf:id={quoteattr(name)}><Info>Stand-in for {escape(product)}</Info>
  <Name>{n}</Name>{products}
  <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest"><Info>Guest OS</Info></OperatingSystemSection>
  <VirtualHardwareSection><Info>Virtual hardware</Info>
   <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID>
    <vssd:VirtualSystemIdentifier>{n}</vssd:VirtualSystemIdentifier>
    <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType></System>
   <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>{cpus} vCPU</rasd:ElementName>
    <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>
    <rasd:VirtualQuantity>{cpus}</rasd:VirtualQuantity></Item>
   <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>{memory_mb} MB</rasd:ElementName>
    <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>
    <rasd:VirtualQuantity>{memory_mb}</rasd:VirtualQuantity></Item>
   <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName>
    <rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>
    <rasd:ResourceType>6</rasd:ResourceType></Item>
   <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName>
    <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID>
    <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
   <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
    <rasd:Connection>{net}</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName>
    <rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
    <rasd:ResourceType>10</rasd:ResourceType></Item>
  </VirtualHardwareSection></VirtualSystem></Envelope>
"""
