"""Powering the Management Node's VM on once it is deployed, sized and its boot options set (guide:
Management Node deployment, step 1: deploy the OVA, then power the VM on and open its console).

Powered on, a fresh node boots to its installation wizard, which the bootstrap stage answers; with
BIOS setup forced it stops in its BIOS first, where a person sets the Supervisor password. A VM that
runs is left alone, and one that is powered off again later is powered on by the next run.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.tasks.vms.deploy import DEPLOYED
from securemode.tasks.vms.inputs import check_vms_inputs
from securemode.tasks.vms.reservations import vm_must_exist
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_vm import VmView

POWERED_ON = "poweredOn"


def _power_on(vm: VmView) -> None:
    wait_for_task(vm.ref.PowerOnVM_Task(), f"power-on of VM {vm.name}")


def plan_power_on(vm: VmView, control: str = DEPLOYED) -> list[Planned]:
    """Power on a VM of any node that is not running (nothing for one that runs)."""
    state = str(vm.runtime.powerState)
    if state == POWERED_ON:
        return []
    return [Planned(action=partial(_power_on, vm),
                    changes=(change(control, vm.name, "runtime.powerState", state, POWERED_ON),))]


def ensure_powered_on(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Power the VM on when it is not running."""
    name = ctx.site.site.management_node.name
    session = resources.enter_context(open_site_session(ctx.site))
    vm = check_vms_inputs(session, ctx.site, ctx.apply).vm
    if vm is None:
        if ctx.apply:
            vm_must_exist(name)
        return plan_of(
            Planned(
                action=partial(vm_must_exist, name),
                changes=(change(DEPLOYED, name, "runtime.powerState", None, POWERED_ON),),
            )
        )
    return plan_of(*plan_power_on(vm))
