"""Powering the contingency deployment off (guide: its VMs "should be completely powered off and remain off
until required"): a guest shutdown, then a power off after the site's ``contingency.shutdown_wait_s``."""

from __future__ import annotations

import contextlib
from contextlib import ExitStack
from functools import partial

from securemode.console.access import HTTPS_PORT
from securemode.console.reboot import wait_for_port
from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.site_loader import LoadedSite
from securemode.tasks.contingency.nodes import fallback_nodes
from securemode.tasks.nodes.status import NodeNotDeployed, poll_statuses, wait_until_ready
from securemode.tasks.vms.power_off import planned_power_off
from securemode.vsphere import open_site_session, wait_for_task
from securemode.vsphere.power import POWERED_ON, PowerReader

BOOT_WAIT_S = 180.0


def ensure_fallback_off(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Shut every fallback VM that exists down; one a plan has yet to build is left to the build."""
    plan = ctx.site.site.contingency
    if plan is None:
        return plan_of()
    reader = PowerReader(resources.enter_context(open_site_session(ctx.site)))
    present = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is not None]
    return plan_of(*planned_power_off(reader, present, plan.shutdown_wait_s))


def power_on_fallback(fallback: LoadedSite, boot_wait_s: float = BOOT_WAIT_S) -> list[str]:
    """Power on the fallback's VMs that exist, the Management Node first, and wait (bounded) until its HTTPS
    answers and its conferencing nodes report DEPLOYED/SYNCED to it, so a refresh verifies a running
    deployment. Returns the VMs it powered on. A node still late after the bound is left to the stages,
    whose verifiers then name it."""
    site = fallback.site
    started: list[str] = []
    with open_site_session(fallback) as session:
        reader = PowerReader(session)
        for node in [site.management_node, *site.conferencing_nodes]:
            vm = reader.read(node.name)
            if vm is not None and vm.state != POWERED_ON:
                wait_for_task(vm.ref.PowerOnVM_Task(), f"power-on of VM {node.name}")
                started.append(node.name)
            if node is site.management_node and started:
                wait_for_port(str(node.address), HTTPS_PORT, True, boot_wait_s)
    nodes = [n.name for n in site.conferencing_nodes if n.name in started]
    if nodes:
        with contextlib.suppress(NodeNotDeployed):
            wait_until_ready(partial(poll_statuses, fallback), nodes, timeout_s=boot_wait_s)
    return started
