"""Stage `vms` (guide: Management Node deployment step 1, Reserving virtual machine resources, BIOS
configuration): deploy the Management Node OVA, reserve its resources, prepare its BIOS, power it on.
"""

from __future__ import annotations

from collections.abc import Callable

from securemode.binding import Binding, Call, Planned, Proof, Target, call, checked, planned
from securemode.catalogue import BY_ID, Stage
from securemode.engine import EnsureStep, StageSpec
from securemode.flows.stages.host import HostProbe, run_planned
from securemode.results import Result
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.vms import attest_bios_password, ensure_boot_options, ensure_management_vm, ensure_reservations
from securemode.tasks.vms.bios import BOOT_ORDER, FORCE_SETUP, PASSWORD
from securemode.tasks.vms.deploy import DEPLOYED, VLAN
from securemode.tasks.vms.power import ensure_powered_on
from securemode.verifiers import vsphere as vv
from securemode.vsphere import VSphereConnectError

_TRANSIENT = (VSphereConnectError,)

STEPS = {step.name: step for step in (
    EnsureStep("management_vm", ensure_management_vm, transient_errors=_TRANSIENT),
    EnsureStep("reservations", ensure_reservations, transient_errors=_TRANSIENT),
    EnsureStep("boot_options", ensure_boot_options, transient_errors=_TRANSIENT),
    EnsureStep("power_on", ensure_powered_on, transient_errors=_TRANSIENT),
    EnsureStep("bios_password", attest_bios_password),
)}


def _bind(control: str, fix: str, verifier: Callable[..., Result],
          arguments: Callable[[HostProbe, Target], Call]) -> Binding[HostProbe]:
    return Binding(BY_ID[control], STEPS[fix], (Proof(verifier, arguments),))


def _present(ctx: HostProbe, _t: Target) -> Call:
    node = ctx.site.management_node
    return call(ctx.reader, ctx.site.vsphere.datastore, node.vm.cpus, node.vm.memory_mb)


def _vlan(ctx: HostProbe, _t: Target) -> Call:
    vs = ctx.site.vsphere
    return call(ctx.reader, vs.networks.vm.port_group, ctx.site.management_node.vlan, set(vs.reserved_vlans))


def _allocation(aspect: str) -> Callable[[HostProbe, Target], Call]:
    return lambda ctx, _t: call(ctx.reader, aspect=aspect, iops=ctx.site.management_node.vm.disk_iops_limit)


def _boot(aspect: str) -> Callable[[HostProbe, Target], Call]:
    return lambda ctx, _t: call(ctx.reader, aspect, ctx.site.name, PASSWORD)


BINDINGS: tuple[Binding[HostProbe], ...] = checked(Stage.VMS, tuple(STEPS.values()), (
    _bind(DEPLOYED, "management_vm", vv.vm_present, _present),
    _bind(VLAN, "management_vm", vv.vm_vlan, _vlan),
    *(_bind(f"vms.{aspect}", "reservations", vv.vm_allocation, _allocation(aspect))
      for aspect in vv.vm.ALLOCATION_ASPECTS),
    _bind("vms.disk.iops-budget", "reservations", vv.iops_budget,
          lambda ctx, _t: call(ctx.reader, ctx.site.vsphere.iops_budget)),
    _bind(FORCE_SETUP, "boot_options", vv.vm_boot_options, _boot("force-setup")),
    _bind(BOOT_ORDER, "boot_options", vv.vm_boot_options, _boot("boot-order")),
    _bind(PASSWORD, "bios_password", vv.bios_password_attestation, lambda ctx, _t: call(ctx.site.name)),
))


def plan(loaded: LoadedSite) -> list[Planned[HostProbe]]:
    """The VM's controls on the Management Node's VM, the IOPS budget on the host."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per vms control, from a fresh read-only session."""
    return run_planned(loaded, plan(loaded), [])


SPEC = StageSpec(stage=Stage.VMS, steps=tuple(STEPS.values()), verify=verify)
