"""Build or refresh the contingency deployment with the primary's own stage flows, then prove parity.

The fallback is the primary's desired state with the guide's exceptions (:mod:`securemode.fallback_site`);
each stage flow runs on its site path as a subflow, so the operator sees the fallback's stages and
their reports as the primary's. Then both deployments' configuration is exported through the Management
API while the fallback is up, diffed, and the result recorded (:mod:`securemode.pexip.parity_record`);
the stage's last step powers the fallback off. A refresh is due when parity was never proven, a refresh
was asked for (or one did not finish), the primary's configuration changed since, the proof is older
than the site's bound, or a fallback VM is missing; otherwise nothing is powered on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from securemode.catalogue import Stage
from securemode.engine import Gate, PreApproved
from securemode.fallback_site import fallback_path
from securemode.flows.stage import STAGE_FLOWS
from securemode.flows.states import outcome_of
from securemode.outcome import StageOutcome, blockers, describe_blockers
from securemode.pexip import parity_record
from securemode.pexip.connect import management_api
from securemode.pexip.export import ConfigurationExport, export_configuration
from securemode.pexip.export_diff import contingency_identities, diff_exports
from securemode.site_loader import LoadedSite, load_fallback

# The fallback is built by the primary's stages in pipeline order; `host` only on a host of its own.
BUILT_BY = (Stage.VMS, Stage.BOOTSTRAP, Stage.NODES, Stage.PKI, Stage.PLATFORM, Stage.AUTH)


class FallbackNotBuilt(RuntimeError):
    """A stage of the fallback did not end compliant: the message names the stage and its controls."""


def fallback_stages(primary: LoadedSite) -> list[Stage]:
    plan = primary.site.contingency
    separate = plan is not None and plan.esxi_host not in (None, primary.site.vsphere.esxi_host)
    return [*([Stage.HOST] if separate else []), *BUILT_BY]


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


def _approvals(gate: Gate) -> tuple[list[str], list[str], str | None]:
    if isinstance(gate, PreApproved):
        return sorted(gate.steps), sorted(gate.attest_controls), gate.who or None
    return [], [], None


def build_fallback(primary: LoadedSite, gate: Gate, reason: str) -> None:
    """Run the fallback's stages as subflows, then export, diff and record parity (the fallback stays up)."""
    parity_record.request_refresh(primary, f"a refresh ({reason}) started at {datetime.now(UTC):%Y-%m-%d %H:%M} "
                                  "UTC did not finish")
    path = fallback_path(str(primary.path))
    approve, attest, approver = _approvals(gate)
    for stage in fallback_stages(primary):
        outcome = outcome_of(STAGE_FLOWS[stage](site_path=path, apply=True, verify=True, approve=approve,
                                                attest=attest, approver=approver, return_state=True), StageOutcome)
        stopping = blockers(outcome.results, frozenset(primary.site.allow_error))
        if stopping:
            raise FallbackNotBuilt(f"the contingency deployment is not compliant: "
                                   f"{describe_blockers(stage.value, stopping)}")
        if outcome.skipped and any("not approved" in s for s in outcome.skipped):
            raise FallbackNotBuilt(f"the contingency deployment's stage {stage.value} waits for an approval: "
                                   + "; ".join(s.splitlines()[0] for s in outcome.skipped))
    record_parity(primary, load_fallback(primary))


def record_parity(primary: LoadedSite, fallback: LoadedSite) -> parity_record.ParityRecord:
    """Export both deployments now, diff them and keep the result."""
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


def fallback_site_path(primary: LoadedSite) -> Path:
    return Path(fallback_path(str(primary.path)))
