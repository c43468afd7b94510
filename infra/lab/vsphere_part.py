"""The lab's ESXi host: vcsim-ext in ESXi mode with two pNICs, and the networks the lab site names.

The simulator starts with vSwitch0 on vmnic0 holding "Management Network" (the host's management
port group). The bootstrapped profile adds what a deployed site has: the VM network "Pexip Network"
(VLAN 20) on its own vSwitch1 over vmnic1, and one VM per node, named after the node, powered on,
each disk with the site's IOPS limit (the ``vms`` stage refuses a host whose IOPS sum is unbounded).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from securemode.infra.vcsim import Vcsim, VcsimOptions, start_vcsim
from securemode.site import VmSizing

MANAGEMENT_NETWORK: dict[str, Any] = {
    "port_group": "Management Network", "vswitch": "vSwitch0", "pnics": ["vmnic0"], "vlan": 0}
VM_NETWORK: dict[str, Any] = {"port_group": "Pexip Network", "vswitch": "vSwitch1", "pnics": ["vmnic1"], "vlan": 20}
DATASTORE = "LocalDS_0"
# Every lab VM disk carries the site's default per-disk limit (the site file leaves vm.disk_iops_limit unset).
DISK_IOPS_LIMIT: int = VmSizing().disk_iops_limit
NODE_VLAN = 20


@dataclass(frozen=True)
class VsphereFacts:
    url: str
    host: str
    port: int
    username: str
    tls_sha256: str
    tls_fingerprint: str
    state_dir: str


def start(listen_host: str, vms: int) -> Vcsim:
    """Start the simulator (it picks its port) with ``vms`` VMs; returns once its TLS answers."""
    return start_vcsim(VcsimOptions(mode="esx", vms=vms, pnics=2, listen_host=listen_host), keep_state=False)


def facts(sim: Vcsim) -> VsphereFacts:
    return VsphereFacts(sim.url, sim.host, sim.port, sim.username, sim.tls_sha256, sim.tls_fingerprint,
                        str(sim.state_dir))


def connect(sim: Vcsim) -> Any:
    """A pyVmomi session; the certificate was checked against the announced fingerprint at start."""
    from pyVim.connect import SmartConnect

    return SmartConnect(host=sim.host, port=sim.port, user=sim.username, pwd=sim.password,
    # type: ignore[no-untyped-call]
                        disableSslCertValidation=True)


def _wait(task: Any) -> None:
    from pyVim.task import WaitForTask

    WaitForTask(task)  # type: ignore[no-untyped-call]


def _disk_limits(vm: Any, limit: int) -> list[Any]:
    """Edits that give every disk of ``vm`` the IOPS limit ``limit`` (shares left as they are)."""
    from securemode.vsphere.vmodl import vim

    edits = []
    for device in vm.config.hardware.device:
        if isinstance(device, vim.vm.device.VirtualDisk):
            alloc = device.storageIOAllocation or vim.StorageResourceManager.IOAllocationInfo()
            alloc.limit = limit
            device.storageIOAllocation = alloc
            edits.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=device))
    return edits


def _nics_to(vm: Any, network: Any) -> list[Any]:
    """Edits that move every NIC of ``vm`` onto ``network`` (the site's VM port group)."""
    from securemode.vsphere.vmodl import vim

    edits = []
    for device in vm.config.hardware.device:
        if isinstance(device, vim.vm.device.VirtualEthernetCard):
            device.backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(
                deviceName=network.name, network=network)
            edits.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=device))
    return edits


def bootstrap_deployed(sim: Vcsim, node_names: list[str], disk_iops_limit: int = DISK_IOPS_LIMIT) -> None:
    """Give the host the site's VM network and one VM per node as a deployed site has them: named after
    the node, sized as the site's default VM (a running VM cannot be resized), NICs on the VM network,
    every disk limited to ``disk_iops_limit`` IOPS (so the host's IOPS sum is bounded), powered on.

    The simulator's stock "VM Network" port group sits on the management vSwitch; a deployed site has no
    VM port group there (guide: VMs on a separate physical network), so it is removed once the VMs left it.
    """
    from pyVim.connect import Disconnect

    from securemode.vsphere.vmodl import vim

    si = connect(sim)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        host = view.view[0]
        view.Destroy()
        ns = host.configManager.networkSystem
        bridge = vim.host.VirtualSwitch.BondBridge(nicDevice=list(VM_NETWORK["pnics"]))
        ns.AddVirtualSwitch(vswitchName=VM_NETWORK["vswitch"],
                            spec=vim.host.VirtualSwitch.Specification(numPorts=128, bridge=bridge))
        ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
            name=VM_NETWORK["port_group"], vlanId=VM_NETWORK["vlan"], vswitchName=VM_NETWORK["vswitch"],
            policy=vim.host.NetworkPolicy()))
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vms = sorted(view.view, key=lambda vm: vm.name)
        view.Destroy()
        network = next(n for n in host.network if n.name == VM_NETWORK["port_group"])
        sizing = VmSizing()
        for vm, name in zip(vms, node_names, strict=False):
            if vm.runtime.powerState == "poweredOn":
                _wait(vm.PowerOffVM_Task())
            spec = vim.vm.ConfigSpec(name=name, numCPUs=sizing.cpus, memoryMB=sizing.memory_mb,
                                     deviceChange=[*_disk_limits(vm, disk_iops_limit), *_nics_to(vm, network)])
            _wait(vm.ReconfigVM_Task(spec=spec))
            _wait(vm.PowerOnVM_Task())
        with contextlib.suppress(vim.fault.NotFound):
            ns.RemovePortGroup(pgName="VM Network")
    finally:
        with contextlib.suppress(Exception):
            Disconnect(si)  # type: ignore[no-untyped-call]
