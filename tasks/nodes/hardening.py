"""The same VM hardening as the Management Node's, on every Conferencing Node's VM (guide: Reserving
virtual machine resources, BIOS configuration): reservations, limits and shares with the node's IOPS
limit (the host's IOPS budget, every node counted, checked first), the SCSI (0:0) disk first in the boot
order with BIOS setup forced until the Supervisor password is attested, and then the power-on.

The planners are the Management Node's (:mod:`securemode.tasks.vms`), given the `nodes` rows.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.problems import InputError
from securemode.site import ConferencingNode
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.rows import BOOT_ORDER, DEPLOYED, FORCE_SETUP, PASSWORD, RESERVED
from securemode.tasks.vms.bios import ask_attestation, password_attested, plan_boot_options
from securemode.tasks.vms.budget import budget_problems, projected_sum
from securemode.tasks.vms.power import POWERED_ON, plan_power_on
from securemode.tasks.vms.reservations import Wanted, plan_reservations, predicted_changes, vm_must_exist
from securemode.vsphere import open_site_session
from securemode.vsphere.changes import change
from securemode.vsphere.desired_vm import VmView, core_mhz, view_vm
from securemode.vsphere.inventory import names_of
from securemode.vsphere.session import VSphereSession
from securemode.vsphere.vmodl import vim


def node_vms(session: VSphereSession, loaded: LoadedSite) -> list[tuple[ConferencingNode, VmView | None]]:
    """Each Conferencing Node with its VM on the host (None before it is deployed)."""
    found = names_of(session.content, vim.VirtualMachine)
    return [
        (node, view_vm(found[node.name]) if node.name in found else None) for node in loaded.site.conferencing_nodes
    ]


def _missing(ctx: EngineContext, name: str, predicted: list[Change]) -> Planned:
    """A VM not deployed yet: a plan predicts its settings; a run cannot go on without it."""
    if ctx.apply:
        vm_must_exist(name)
    return Planned(action=partial(vm_must_exist, name), changes=tuple(predicted))


def ensure_node_reservations(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Reserve every node VM's CPU and memory and limit its disks, once the IOPS budget is known to hold."""
    loaded = ctx.site
    session = resources.enter_context(open_site_session(loaded))
    host = session.host()
    problems = budget_problems(
        projected_sum(loaded.site, [view_vm(v) for v in host.vm], 1), loaded.site.vsphere.iops_budget
    )
    if problems:
        raise InputError(str(loaded.path), problems)
    mhz = core_mhz(host)
    planned: list[Planned] = []
    for node, vm in node_vms(session, loaded):
        if vm is None:
            wanted = Wanted(node.vm.cpus * mhz, node.vm.memory_mb, node.vm.disk_iops_limit)
            planned.append(_missing(ctx, node.name, predicted_changes(node.name, wanted, RESERVED)))
            continue
        hw = vm.config.hardware
        planned += plan_reservations(vm, Wanted(hw.numCPU * mhz, hw.memoryMB, node.vm.disk_iops_limit), RESERVED)
    return plan_of(*planned)


def ensure_node_boot_options(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """The SCSI (0:0) disk first; BIOS setup forced while the node's Supervisor password is not attested."""
    loaded = ctx.site
    session = resources.enter_context(open_site_session(loaded))
    planned: list[Planned] = []
    for node, vm in node_vms(session, loaded):
        force = not password_attested(loaded.site.name, node.name, PASSWORD)
        if vm is None:
            predicted = [change(BOOT_ORDER, node.name, "config.bootOptions.bootOrder[0]", None, "disk SCSI (0:0)")]
            predicted += (
                [change(FORCE_SETUP, node.name, "config.bootOptions.enterBIOSSetup", None, True)] if force else []
            )
            planned.append(_missing(ctx, node.name, predicted))
            continue
        planned += plan_boot_options(vm, force, BOOT_ORDER, FORCE_SETUP)
    return plan_of(*planned)


def ensure_nodes_powered_on(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Power on every node VM that is not running (its first boot registers it with the Management Node)."""
    loaded = ctx.site
    session = resources.enter_context(open_site_session(loaded))
    planned: list[Planned] = []
    for node, vm in node_vms(session, loaded):
        if vm is None:
            planned.append(
                _missing(ctx, node.name, [change(DEPLOYED, node.name, "runtime.powerState", None, POWERED_ON)])
            )
            continue
        planned += plan_power_on(vm, DEPLOYED)
    return plan_of(*planned)


def attest_node_bios_passwords(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Ask once per node for the Supervisor-password attestation and record it (not a Change)."""
    loaded = ctx.site
    return plan_of(
        *(
            Planned(action=partial(ask_attestation, ctx, node.name, PASSWORD))
            for node in loaded.site.conferencing_nodes
            if not password_attested(loaded.site.name, node.name, PASSWORD)
        )
    )
