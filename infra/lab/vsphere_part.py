"""The lab's ESXi host: vcsim-ext in ESXi mode with two pNICs, and the networks the lab site names.

The simulator starts with vSwitch0 on vmnic0 holding "Management Network" (the host's management
port group). The bootstrapped profile adds what a deployed site has: the VM network "Pexip Network"
(VLAN 20) on its own vSwitch1 over vmnic1, and one VM per node, named after the node, powered on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from infra.vcsim import Vcsim, VcsimOptions, start_vcsim

MANAGEMENT_NETWORK: dict[str, Any] = {
    "port_group": "Management Network", "vswitch": "vSwitch0", "pnics": ["vmnic0"], "vlan": 0}
VM_NETWORK: dict[str, Any] = {"port_group": "Pexip Network", "vswitch": "vSwitch1", "pnics": ["vmnic1"], "vlan": 20}
DATASTORE = "LocalDS_0"
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

    return SmartConnect(host=sim.host, port=sim.port, user=sim.username, pwd=sim.password,  # type: ignore[no-untyped-call]
                        disableSslCertValidation=True)


def _wait(task: Any) -> None:
    from pyVim.task import WaitForTask

    WaitForTask(task)  # type: ignore[no-untyped-call]


def bootstrap_deployed(sim: Vcsim, node_names: list[str]) -> None:
    """Give the host the site's VM network and name one powered-on VM after each node."""
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
        for vm, name in zip(vms, node_names, strict=False):
            _wait(vm.Rename_Task(newName=name))
            if vm.runtime.powerState != "poweredOn":
                _wait(vm.PowerOnVM_Task())
    finally:
        with contextlib.suppress(Exception):
            Disconnect(si)  # type: ignore[no-untyped-call]
