"""Powering the contingency deployment off (guide: its VMs "should be completely powered off and remain off
until required"): a guest shutdown, then a power off after the site's ``contingency.shutdown_wait_s``."""

from __future__ import annotations

import contextlib
from contextlib import ExitStack

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.failover_marker import active_failover
from securemode.site_loader import LoadedSite
from securemode.tasks.contingency.nodes import fallback_nodes
from securemode.tasks.failover.power_on import apply_power_on, plan_power_on
from securemode.tasks.failover.readiness import (
    FallbackNotReady,
    node_reports,
    wait_for_management_node,
    wait_for_sync,
)
from securemode.tasks.nodes.status import NodeNotDeployed
from securemode.tasks.vms.power_off import planned_power_off
from securemode.vsphere import open_site_session
from securemode.vsphere.power import PowerReader

BOOT_WAIT_S = 180.0


def ensure_fallback_off(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Shut every fallback VM that exists down; one a plan has yet to build is left to the build. While a
    failover stands the fallback carries the service: nothing is powered off."""
    plan = ctx.site.site.contingency
    if plan is None:
        return plan_of()
    marker = active_failover(ctx.site)
    if marker is not None:
        return plan_of(notes=[f"{marker.describe()}: the fallback carries the service and stays on"])
    reader = PowerReader(resources.enter_context(open_site_session(ctx.site)))
    present = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is not None]
    return plan_of(*planned_power_off(reader, present, plan.shutdown_wait_s))


def power_on_fallback(fallback: LoadedSite, boot_wait_s: float = BOOT_WAIT_S) -> list[str]:
    """Power on the fallback's VMs that exist, the Management Node first, and wait (bounded) until its API
    answers and its conferencing nodes report DEPLOYED/SYNCED to it, so a refresh verifies a running
    deployment. Returns the VMs it powered on. A node still late after the bound is left to the stages,
    whose verifiers then name it."""
    site = fallback.site
    with open_site_session(fallback) as session:
        reader = PowerReader(session)
        manager = [n.name for n in (site.management_node,) if reader.read(n.name)]
        nodes = [n.name for n in site.conferencing_nodes if reader.read(n.name)]
        started = plan_power_on(reader, manager)
        apply_power_on(reader, started)
        if started:
            with contextlib.suppress(FallbackNotReady):
                wait_for_management_node(fallback, boot_wait_s)
        before = node_reports(fallback)  # the statuses kept from the nodes' last run
        booting = plan_power_on(reader, nodes)
        apply_power_on(reader, booting)
    if booting:
        with contextlib.suppress(NodeNotDeployed):
            wait_for_sync(fallback, boot_wait_s, before=before)
    return started + booting
