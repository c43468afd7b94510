"""Deploying the Management Node from its OVA (guide: Management Node deployment, step 1), sized per the site
and attached to the site's VM port group. An existing VM of that name is never redeployed.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.site import ManagementNode, NodeCommon, Site
from securemode.tasks.vms.inputs import VmsInputs, check_vms_inputs
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_vm import VmView, nic_network, nics, view_vm
from securemode.vsphere.errors import VSphereTaskError
from securemode.vsphere.inventory import datacenter_of
from securemode.vsphere.ova import OvaPackage
from securemode.vsphere.ovf_import import ImportPlan, Progress, import_vapp
from securemode.vsphere.session import VSphereSession
from securemode.vsphere.vmodl import vim

DEPLOYED = "vms.ova.deployed"
VLAN = "vms.network.vlan"
POWERED_OFF = "poweredOff"


def import_node_vm(session: VSphereSession, host: Any, package: OvaPackage | None, plan: ImportPlan | None,
                   progress: Progress) -> Any:
    """Import a node's checked OVA into the host's datacenter VM folder (any node); return the VM."""
    if package is None or plan is None:
        raise VSphereTaskError("nothing to import: the OVA was not checked")
    folder = datacenter_of(host).vmFolder
    return import_vapp(session, package, plan, pool=host.parent.resourcePool, folder=folder, host=host,
                       progress=progress)


def _deploy(session: VSphereSession, inputs: VmsInputs, log: list[str]) -> Any:
    return import_node_vm(session, inputs.host, inputs.package, inputs.import_plan,
                          lambda pct: log.append(f"upload {pct}%"))


def _reconfigure(vm: VmView, spec: Any, what: str) -> None:
    wait_for_task(vm.ref.ReconfigVM_Task(spec=spec), f"{what} of VM {vm.name}")


def plan_vm_shape(vm: VmView, node: NodeCommon, site: Site, network: Any | None, notes: list[str],
                  deployed: str = DEPLOYED, vlan: str = VLAN) -> list[Planned]:
    """Size (CPUs, memory; only while powered off) and NIC attachment of an existing VM of any node; the
    controls are the Management Node's rows unless a Conferencing Node's are given."""
    planned: list[Planned] = []
    hw = vm.config.hardware
    sizing = [c for c in (
        change(deployed, vm.name, "config.hardware.numCPU", hw.numCPU, node.vm.cpus) if hw.numCPU != node.vm.cpus
        else None,
        change(deployed, vm.name, "config.hardware.memoryMB", hw.memoryMB, node.vm.memory_mb)
        if hw.memoryMB != node.vm.memory_mb else None,
    ) if c is not None]
    if sizing and vm.runtime.powerState != POWERED_OFF:
        notes.append(f"{deployed} [{vm.name}]: resize to {node.vm.cpus} vCPU / {node.vm.memory_mb} MB needs the VM "
                     "powered off; it is running, so it was not resized")
    elif sizing:
        spec = vim.vm.ConfigSpec(numCPUs=node.vm.cpus, memoryMB=node.vm.memory_mb)
        planned.append(Planned(action=partial(_reconfigure, vm, spec, "resize"), changes=tuple(sizing)))
    want = site.vsphere.networks.vm.port_group
    for nic in nics(vm):
        current = nic_network(nic)
        if current == want:
            continue
        label = nic.deviceInfo.label if nic.deviceInfo else f"nic {nic.key}"
        nic.backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=want, network=network)
        spec = vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)])
        planned.append(Planned(action=partial(_reconfigure, vm, spec, "network change"),
                               changes=(change(vlan, vm.name, f"{label}.network", current, want),)))
    return planned


def _deploy_and_plan_shape(session: VSphereSession, inputs: VmsInputs, node: ManagementNode, site: Site) -> StepPlan:
    """Deploy the VM, then plan its size and NIC from what the OVA made (applied right after)."""
    vm = view_vm(_deploy(session, inputs, []))
    notes: list[str] = []
    planned = plan_vm_shape(vm, node, site, inputs.network, notes)
    return plan_of(*planned, notes=notes)


def ensure_management_vm(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Deploy the VM when it does not exist, then size it and attach it to the site's port group."""
    site = ctx.site.site
    node = site.management_node
    session = resources.enter_context(open_site_session(ctx.site))
    inputs = check_vms_inputs(session, ctx.site, ctx.apply)
    vm = inputs.vm
    if vm is None:
        deploy = change(DEPLOYED, node.name, "vm", None, {
            "ova": inputs.package.path.name if inputs.package else None, "datastore": site.vsphere.datastore,
            "port_group": site.vsphere.networks.vm.port_group, "cpus": node.vm.cpus,
            "memory_mb": node.vm.memory_mb})
        return plan_of(Planned(action=partial(_deploy_and_plan_shape, session, inputs, node, site), changes=(deploy,)))
    notes: list[str] = []
    if site.vsphere.datastore not in [ds.name for ds in vm.datastore]:
        notes.append(f"{DEPLOYED} [{node.name}]: the VM exists on another datastore; it is not moved")
    planned = plan_vm_shape(vm, node, site, inputs.network, notes)
    return plan_of(*planned, notes=notes)
