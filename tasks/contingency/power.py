"""Powering the contingency deployment off (guide: its VMs "should be completely powered off and remain off
until required"): a guest shutdown, then a power off after the site's ``contingency.shutdown_wait_s``."""

from __future__ import annotations

from contextlib import ExitStack

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.failover_marker import active_failover
from securemode.tasks.contingency.nodes import fallback_nodes
from securemode.tasks.vms.power_off import planned_power_off
from securemode.vsphere import open_site_session
from securemode.vsphere.power import PowerReader


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
