"""When the contingency deployment must be refreshed, and the parity record a refresh leaves.

A refresh (powering the fallback on and running the primary's stages on it) is due when parity was never
proven, a refresh was asked for (or one did not finish), the last one found the fallback out of parity,
the proof is older than the site's bound, the primary's configuration changed since (its export's
fingerprint), or a fallback VM is missing; otherwise nothing is powered on. The build itself runs stage
flows, so the stage passes it in (tasks do not import flows).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial

from securemode.engine import Change, EngineContext, Gate, Planned, StepPlan, plan_of
from securemode.failover_marker import active_failover
from securemode.pexip import parity_record
from securemode.pexip.connect import management_api
from securemode.pexip.export import ConfigurationExport, export_configuration
from securemode.pexip.export_diff import contingency_identities, diff_exports
from securemode.site_loader import LoadedSite
from securemode.targets import CONTINGENCY_TARGET
from securemode.tasks.contingency.nodes import fallback_nodes
from securemode.vsphere import open_site_session
from securemode.vsphere.power import PowerReader

PARITY = "contingency.parity"
NO_CONTINGENCY = "the site defines no contingency deployment (a `contingency` section): nothing to build or check"
BuildFallback = Callable[[LoadedSite, Gate, str], None]


def primary_export(primary: LoadedSite) -> ConfigurationExport:
    with management_api(primary) as api:
        return export_configuration(api)


def refresh_reason(primary: LoadedSite, missing_vms: list[str]) -> str | None:
    """Why the fallback must be refreshed now, or None when its recorded parity still stands."""
    plan = primary.site.contingency
    if plan is None:
        return None
    if missing_vms:
        return f"fallback VM(s) {', '.join(missing_vms)} not found in vSphere"
    asked = parity_record.requested(primary)
    if asked:
        return asked
    record = parity_record.load(primary)
    if record is None:
        return "the fallback's parity with the primary was never proven"
    if record.disallowed:
        return f"the last refresh found the fallback out of parity ({'; '.join(record.disallowed)})"
    if record.age_hours() > plan.parity_max_age_hours:
        return f"parity was last proven {record.age_hours():.0f} h ago (bound {plan.parity_max_age_hours} h)"
    if primary_export(primary).fingerprint() != record.primary_fingerprint:
        return "the primary's configuration changed since the fallback was last refreshed"
    return None


def ensure_fallback(build: BuildFallback, ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Build or refresh the fallback (with ``build``) when its recorded parity no longer stands."""
    primary = ctx.site
    plan = primary.site.contingency
    if plan is None:
        return plan_of(notes=[NO_CONTINGENCY])
    marker = active_failover(primary)
    if marker is not None:
        return plan_of(notes=[f"{marker.describe()}: the fallback carries the service; no refresh until failback"])
    reader = PowerReader(resources.enter_context(open_site_session(primary)))
    missing = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is None]
    reason = refresh_reason(primary, missing)
    if reason is None:
        return plan_of()
    change = Change(control=PARITY, target=CONTINGENCY_TARGET, setting="contingency deployment", current=reason,
                    desired="built by the primary's stages with the guide's exceptions, parity proven, powered off")
    return plan_of(Planned(action=partial(build, primary, ctx.gate, reason), changes=(change,)))


def record_parity(primary: LoadedSite, fallback: LoadedSite) -> parity_record.ParityRecord:
    """Export both deployments now (the fallback is up), diff them and keep the result."""
    ours = primary_export(primary)
    with management_api(fallback) as api:
        theirs = export_configuration(api)
    differences = diff_exports(ours, theirs, contingency_identities(primary.site))
    record = parity_record.ParityRecord(
        proven_at=datetime.now(UTC), primary_fingerprint=ours.fingerprint(),
        fallback_export=theirs.model_dump(mode="json"),
        disallowed=[f"{d.path}: primary {d.primary!r}, fallback {d.fallback!r}" for d in differences if not d.allowed])
    parity_record.save(primary, record)
    return record
