"""BIOS preparation (guide: BIOS configuration): boot from the SCSI (0:0) disk first, force BIOS setup on
the next boot, and the Supervisor password as a person's recorded attestation.

The password is set inside the VM's BIOS, which no API reaches, so it stays a MANUAL control: the
step asks the gate for an attestation once and records it. ESXi clears ``enterBIOSSetup`` after
the VM has entered setup; once the password is attested the flag is no longer forced again, so a
production node does not stop in its BIOS on every boot.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode import attestations as attestation_store
from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.results import JsonValue
from securemode.tasks.vms.inputs import check_vms_inputs
from securemode.tasks.vms.reservations import vm_must_exist
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_vm import VmView, boot_order_keys, enter_bios_setup, scsi00_disk
from securemode.vsphere.errors import VSphereNotFound
from securemode.vsphere.vmodl import vim

FORCE_SETUP = "vms.bios.force-setup"
BOOT_ORDER = "vms.bios.boot-order"
PASSWORD = "vms.bios.supervisor-password"
PASSWORD_QUESTION = ("Has a Supervisor password been set in the BIOS of VM {vm} (BIOS Security page), with the "
                     "hard drive SCSI (0:0) first in the boot order, and the changes saved?")


def password_attested(site_name: str, vm_name: str, control: str = PASSWORD) -> bool:
    return attestation_store.find(attestation_store.load(site_name), control, vm_name) is not None


def _apply(vm: VmView, options: Any) -> None:
    wait_for_task(vm.ref.ReconfigVM_Task(spec=vim.vm.ConfigSpec(bootOptions=options)), f"boot options of VM {vm.name}")


def plan_boot_options(vm: VmView, force_setup: bool, boot_order: str = BOOT_ORDER,
                      force_setup_control: str = FORCE_SETUP) -> list[Planned]:
    """The SCSI (0:0) disk first in the boot order and, when asked, BIOS setup forced on the next boot;
    the controls are the Management Node's rows unless a Conferencing Node's are given."""
    disk = scsi00_disk(vm)
    if disk is None:
        raise VSphereNotFound(f"VM {vm.name} has no disk at SCSI (0:0) to boot from")
    order = boot_order_keys(vm)
    first: JsonValue = {"disk": int(disk.key)}
    changes = []
    if not order or order[0] != first:
        changes.append(change(boot_order, vm.name, "config.bootOptions.bootOrder[0]",
                              order[0] if order else None, first))
    if force_setup and not enter_bios_setup(vm):
        changes.append(change(force_setup_control, vm.name, "config.bootOptions.enterBIOSSetup", False, True))
    if not changes:
        return []
    rest = [b for b in (vm.config.bootOptions.bootOrder or []) if getattr(b, "deviceKey", None) != disk.key]
    options = vim.vm.BootOptions(bootOrder=[vim.vm.BootOptions.BootableDiskDevice(deviceKey=disk.key), *rest])
    if force_setup:
        options.enterBIOSSetup = True
    return [Planned(action=partial(_apply, vm, options), changes=tuple(changes))]


def ensure_boot_options(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    site = ctx.site.site
    name = site.management_node.name
    force = not password_attested(site.name, name)
    session = resources.enter_context(open_site_session(ctx.site))
    vm = check_vms_inputs(session, ctx.site, ctx.apply).vm
    if vm is None:
        if ctx.apply:
            vm_must_exist(name)
        predicted = [change(BOOT_ORDER, name, "config.bootOptions.bootOrder[0]", None, "disk SCSI (0:0)")]
        predicted += [change(FORCE_SETUP, name, "config.bootOptions.enterBIOSSetup", None, True)] if force else []
        return plan_of(Planned(action=partial(vm_must_exist, name), changes=tuple(predicted)))
    return plan_of(*plan_boot_options(vm, force))


def ask_attestation(ctx: EngineContext, name: str, control: str = PASSWORD) -> None:
    """Ask the gate for the attestation; record it, or say that a person's word is awaited."""
    question = PASSWORD_QUESTION.format(vm=name)
    found = ctx.gate.attest(control, name, question)
    if found is None:
        ctx.skipped.append(f"{control} [{name}]: awaiting a person's attestation: {question}")
        return
    ctx.attestations.append(found)
    attestation_store.record(ctx.site.site.name, found)


def attest_bios_password(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Ask once for the Supervisor-password attestation and record it; an attestation is not a Change."""
    site = ctx.site.site
    name = site.management_node.name
    if password_attested(site.name, name):
        return plan_of()
    return plan_of(Planned(action=partial(ask_attestation, ctx, name)))
