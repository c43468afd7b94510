"""Build or refresh the contingency deployment with the primary's own stage flows, then record parity.

The fallback is the primary's desired state with the guide's exceptions (:mod:`securemode.fallback_site`);
each stage flow runs on its site path as a subflow, so the operator sees the fallback's stages (named
``<stage> (contingency)``) and their reports as the primary's. Then both deployments' configuration is
exported through the Management API while the fallback is up, diffed and recorded
(:func:`securemode.tasks.contingency.refresh.record_parity`); the stage's next step powers the fallback off.
"""

from __future__ import annotations

from datetime import UTC, datetime

from securemode.catalogue import Stage
from securemode.engine import Gate, PreApproved
from securemode.fallback_site import fallback_path
from securemode.outcome import StageOutcome, blockers, describe_blockers
from securemode.pexip import parity_record
from securemode.site_loader import LoadedSite, load_fallback
from securemode.tasks.contingency.power import power_on_fallback
from securemode.tasks.contingency.refresh import record_parity

# The fallback is built by the primary's stages in pipeline order; `host` only on a host of its own.
BUILT_BY = (Stage.VMS, Stage.BOOTSTRAP, Stage.NODES, Stage.PKI, Stage.PLATFORM, Stage.AUTH)


class FallbackNotBuilt(RuntimeError):
    """A stage of the fallback did not end compliant: the message names the stage and its controls."""


def fallback_stages(primary: LoadedSite) -> list[Stage]:
    plan = primary.site.contingency
    separate = plan is not None and plan.esxi_host not in (None, primary.site.vsphere.esxi_host)
    return [*([Stage.HOST] if separate else []), *BUILT_BY]


def _approvals(gate: Gate) -> tuple[list[str], list[str], str | None]:
    if isinstance(gate, PreApproved):
        return sorted(gate.steps), sorted(gate.attest_controls), gate.who or None
    return [], [], None


def build_fallback(primary: LoadedSite, gate: Gate, reason: str) -> None:
    """Run the fallback's stages as subflows with the run's approvals, then export, diff and record parity."""
    # Imported here, not above: the stage modules import this one, and the CLI loads them (to list the
    # controls) before it points Prefect at the managed server; importing Prefect earlier freezes its settings.
    from securemode.flows.stage import STAGE_FLOWS
    from securemode.flows.states import outcome_of

    parity_record.request_refresh(primary, f"a refresh ({reason}) started at {datetime.now(UTC):%Y-%m-%d %H:%M} "
                                  "UTC did not finish")
    path = fallback_path(str(primary.path))
    power_on_fallback(load_fallback(primary))  # a refresh proves a running deployment: boot what exists first
    approve, attest, approver = _approvals(gate)
    for stage in fallback_stages(primary):
        outcome = outcome_of(STAGE_FLOWS[stage](site_path=path, apply=True, verify=True, approve=approve,
                                                attest=attest, approver=approver, return_state=True), StageOutcome)
        stopping = blockers(outcome.results, frozenset(primary.site.allow_error))
        if stopping:
            raise FallbackNotBuilt(f"the contingency deployment is not compliant: "
                                   f"{describe_blockers(stage.value, stopping)}")
    record_parity(primary, load_fallback(primary))
