"""Everything the `vms` steps need, checked before any of them changes anything (design principle 8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from securemode.problems import InputError, Problem
from securemode.site import Site
from securemode.site_loader import LoadedSite
from securemode.tasks.vms.budget import budget_problems, projected_sum
from securemode.vsphere import VSphereSession
from securemode.vsphere.desired_vm import VmView, view_vm
from securemode.vsphere.inventory import datastore_names, find_datastore, find_network, find_vm
from securemode.vsphere.ova import OvaError, OvaPackage, read_ova
from securemode.vsphere.ovf_import import ImportPlan, OvfRejected, import_spec


@dataclass(frozen=True)
class VmsInputs:
    """The host, datastore, port group and VM the steps work on; the OVA and import plan when deploying."""

    host: Any
    datastore: Any
    network: Any | None  # None only in plan mode, before the host stage created the port group
    vm: VmView | None
    package: OvaPackage | None = None
    import_plan: ImportPlan | None = None

    @property
    def pool(self) -> Any:
        return self.host.parent.resourcePool


def _ova_problems(session: VSphereSession, loaded: LoadedSite, host: Any, datastore: Any,
                  network: Any | None) -> tuple[list[Problem], OvaPackage | None, ImportPlan | None]:
    node = loaded.site.management_node
    if not node.ova:
        return [Problem(field="management_node.ova", message="no OVA given, and the VM does not exist yet",
                        fix="give the path of the Management Node OVA")], None, None
    path = loaded.resolve_path(node.ova)
    try:
        package = read_ova(path)
    except OvaError as exc:
        return [Problem(field="management_node.ova", message=f"{path} is not a usable OVA: {exc}",
                        fix="give the Management Node OVA as downloaded from Pexip")], None, None
    if datastore is None:
        return [], package, None
    try:
        plan = import_spec(session, package, vm_name=node.name, pool=host.parent.resourcePool, datastore=datastore,
                           network=network)
    except OvfRejected as exc:
        return [Problem(field="management_node.ova", message=f"the host rejects the descriptor of {path}: {exc}",
                        fix="give the Management Node OVA as downloaded from Pexip")], package, None
    return [], package, plan


def placement_problems(host: Any, site: Site, apply: bool) -> tuple[list[Problem], Any | None, Any | None]:
    """Where any node's VM goes: the site's datastore and VM port group on the host (the port group may
    be missing in a plan, before the host stage made it); returns the problems, the datastore, the network."""
    vm_net = site.vsphere.networks.vm
    problems: list[Problem] = []
    datastore = find_datastore(host, site.vsphere.datastore)
    if datastore is None:
        problems.append(Problem(field="vsphere.datastore",
                                message=f"datastore '{site.vsphere.datastore}' is not mounted on the host",
                                fix=f"use one of: {', '.join(datastore_names(host)) or 'none found'}"))
    network = find_network(host, vm_net.port_group)
    if network is None and apply:
        problems.append(Problem(field="vsphere.networks.vm.port_group",
                                message=f"port group '{vm_net.port_group}' does not exist on the host",
                                fix="run the host stage first (it creates the VM network)"))
    return problems, datastore, network


def check_vms_inputs(session: VSphereSession, loaded: LoadedSite, apply: bool) -> VmsInputs:
    """Read what the steps need and raise InputError naming every problem; reads only, never writes."""
    site = loaded.site
    node = site.management_node
    vm_net = site.vsphere.networks.vm
    host = session.host()
    problems, datastore, network = placement_problems(host, site, apply)
    if node.vlan != vm_net.vlan:
        problems.append(Problem(field="management_node.vlan",
                                message=f"VLAN {node.vlan} differs from VLAN {vm_net.vlan} of the port group the VM "
                                        f"is attached to ({vm_net.port_group})",
                                fix="make management_node.vlan and vsphere.networks.vm.vlan the same"))
    found = find_vm(session.content, node.name)
    vm = view_vm(found) if found is not None else None
    package = plan = None
    if vm is None:
        ova_problems, package, plan = _ova_problems(session, loaded, host, datastore, network)
        problems += ova_problems
    disks = package.disks if package is not None else 1
    problems += budget_problems(projected_sum(site, [view_vm(v) for v in host.vm], disks), site.vsphere.iops_budget)
    if problems:
        raise InputError(str(loaded.path), problems)
    return VmsInputs(host=host, datastore=datastore, network=network, vm=vm, package=package, import_plan=plan)
