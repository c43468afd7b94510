"""OVF import against ESXi mode: CreateImportSpec, ImportVApp, HttpNfcLease upload, Complete."""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.parse
from typing import Any

import pytest
from pyVmomi import vim, vmodl

from securemode.infra.vcsim import Vcsim

OVF = """<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
 xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
 <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="1024"/></References>
 <DiskSection><Info>disks</Info>
  <Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1"
   ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/></DiskSection>
 <NetworkSection><Info>networks</Info><Network ovf:name="VM Network"><Description>net</Description></Network>
 </NetworkSection>
 <VirtualSystem ovf:id="pexip-mgmt"><Info>VM</Info><Name>pexip-mgmt</Name>
  <OperatingSystemSection ovf:id="101"><Info>os</Info></OperatingSystemSection>
  <VirtualHardwareSection><Info>hw</Info>
   <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID>
    <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType></System>
   <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>4 vCPU</rasd:ElementName>
    <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>
    <rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>
   <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>4096MB</rasd:ElementName>
    <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>
    <rasd:VirtualQuantity>4096</rasd:VirtualQuantity></Item>
   <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
    <rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
   <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk0</rasd:ElementName>
    <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID>
    <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
   <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection>
    <rasd:ElementName>nic0</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID>
    <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
  </VirtualHardwareSection></VirtualSystem></Envelope>
"""


def wait_ready(lease: Any) -> None:
    deadline = time.monotonic() + 10
    while lease.state == vim.HttpNfcLease.State.initializing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lease.state == vim.HttpNfcLease.State.ready, lease.error


def upload(sim: Vcsim, url: str, data: bytes) -> int:
    path = urllib.parse.urlsplit(url.replace("*", f"{sim.host}:{sim.port}"))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # lab, tests only
    conn = http.client.HTTPSConnection(sim.host, sim.port, context=context, timeout=10)
    try:
        conn.request(
            "PUT",
            f"{path.path}?{path.query}" if path.query else path.path,
            body=data,
            headers={"Content-Type": "application/x-vnd.vmware-streamVmdk"},
        )
        return conn.getresponse().status
    finally:
        conn.close()


def test_import_creates_the_vm(vcsim: Vcsim, vcsim_si: Any, vcsim_host: Any) -> None:
    content = vcsim_si.content
    datacenter = content.rootFolder.childEntity[0]
    pool = vcsim_host.parent.resourcePool
    params = vim.OvfManager.CreateImportSpecParams(entityName="pexip-mgmt-01", diskProvisioning="thin")
    result = content.ovfManager.CreateImportSpec(OVF, pool, vcsim_host.datastore[0], params)
    assert not result.error
    assert len(result.fileItem) == 1
    lease = pool.ImportVApp(result.importSpec, datacenter.vmFolder, vcsim_host)
    wait_ready(lease)
    vm = lease.info.entity  # read before Complete: the lease object goes away afterwards
    for device_url in lease.info.deviceUrl:
        assert upload(vcsim, device_url.url, b"\0" * 1024) == 200
    lease.HttpNfcLeaseProgress(100)
    lease.HttpNfcLeaseComplete()
    assert vm.name == "pexip-mgmt-01"
    assert (vm.config.hardware.numCPU, vm.config.hardware.memoryMB) == (4, 4096)


def test_garbage_descriptor_is_invalid_argument(vcsim_si: Any, vcsim_host: Any) -> None:
    params = vim.OvfManager.CreateImportSpecParams(entityName="junk")
    with pytest.raises(vmodl.fault.InvalidArgument):
        vcsim_si.content.ovfManager.CreateImportSpec(
            "this is not XML", vcsim_host.parent.resourcePool, vcsim_host.datastore[0], params
        )


def test_descriptor_without_virtual_system_reports_an_ovf_error(vcsim_si: Any, vcsim_host: Any) -> None:
    params = vim.OvfManager.CreateImportSpecParams(entityName="junk")
    result = vcsim_si.content.ovfManager.CreateImportSpec(
        "<Envelope/>", vcsim_host.parent.resourcePool, vcsim_host.datastore[0], params
    )
    assert [type(e) for e in result.error] == [vim.fault.OvfMissingElement]
    assert result.importSpec is None
