"""Failback after a rebuild: the contingency deployment returns to powered off (guide: it "should be completely
powered off and remain off until required"), and any record of an active failover is cleared.

The failover flow keeps that record (:mod:`securemode.failover_marker`).
"""

from __future__ import annotations

from securemode.failover_marker import clear_failover
from securemode.site_loader import LoadedSite
from securemode.tasks.contingency.nodes import fallback_nodes
from securemode.tasks.vms.power_off import apply_power_off
from securemode.vsphere import open_site_session
from securemode.vsphere.power import PowerReader


def fallback_off(loaded: LoadedSite) -> list[str]:
    """Shut every fallback VM that runs down; returns the VMs stopped (none without a contingency section)."""
    plan = loaded.site.contingency
    if plan is None:
        return []
    with open_site_session(loaded) as session:
        reader = PowerReader(session)
        present = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is not None]
        return [o.change.target for o in apply_power_off(reader, present, plan.shutdown_wait_s)]


def clear_active_failover(loaded: LoadedSite) -> str:
    """Clear the failover flow's active-failover marker; what happened, in words."""
    return "active failover cleared" if clear_failover(loaded) else "no active failover"
