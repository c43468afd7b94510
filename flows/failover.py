"""`failover`: the primary is down or unusable, so the powered-off contingency deployment takes over.

Steps, each timed for the report: check the preconditions (the contingency rows on the primary: parity
proven and fresh, every fallback VM present and off) — a failed one stops before anything changes, with
one message; isolate the primary as asked (``power-off``: guest shutdown then power off of every primary
VM; ``disconnect``: every vNIC disconnected, the VMs kept running for forensics); power the fallback's
Management Node on and wait for its HTTPS API, then its conferencing nodes, and wait until they are
DEPLOYED and SYNCED on it; mark the failover active (so the contingency stage and ``reverify`` leave the
running fallback alone); prove the fallback by behaviour (:mod:`securemode.flows.failover_proof`); then
the licence transfer, a person's step through Pexip support, paused for input and recorded as the
attestation of ``contingency.licence-transfer``. The RTO runs from the declaration (or the run's start)
to the verified fallback; it is in the report and the flow's outcome.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow
from prefect.events import emit_event
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from securemode import attestations
from securemode.failover_marker import mark_failover
from securemode.flows.artifacts import artifact_key, publish_run
from securemode.flows.events import APPROVAL_EVENT, run_ui_url, site_resource
from securemode.flows.failover_proof import precondition_problems, prove_fallback
from securemode.flows.naming import failover_run_name, run_name
from securemode.flows.pause import pause_for_input
from securemode.flows.states import FlowReturn, failed_with
from securemode.flows.timeline import Timeline
from securemode.outcome import verdict
from securemode.problems import InputError, Problem
from securemode.redact import redact
from securemode.report_links import reports_root
from securemode.reports import write_reports
from securemode.reports.model import Operation, Report
from securemode.results import Attestation, Result
from securemode.site_loader import LoadedSite, load_fallback, load_site
from securemode.targets import CONTINGENCY_TARGET
from securemode.tasks.failover.isolation import ISOLATIONS, POWER_OFF, apply_isolation, plan_isolation, primary_vm_names
from securemode.tasks.failover.power_on import apply_power_on, plan_power_on
from securemode.tasks.failover.readiness import node_reports, wait_for_management_node, wait_for_sync
from securemode.verifiers.contingency import licence_transfer
from securemode.vsphere import open_site_session
from securemode.vsphere.power import PowerReader

LICENCE = "contingency.licence-transfer"
LICENCE_PAUSE_S = 24 * 3600  # a support call may take the day; the fallback serves meanwhile
DEFAULT_WAIT_S = 900


class LicenceInput(RunInput):
    """The person who had the licence returned and re-activated on the fallback (through Pexip support)."""

    who: str = Field(
        min_length=1,
        pattern=r"\S",
        description="Required: who re-activated the licence on the "
        "fallback (recorded as the attestation of contingency.licence-transfer).",
    )
    note: str = Field(default="", description="Optional: the support case or a note.")


class FailoverOutcome(BaseModel):
    site: str
    isolation: str
    operation: Operation
    results: list[Result] = Field(default_factory=list)
    licence: Attestation | None = None
    report_dir: str | None = None
    problems: list[str] = Field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.operation.recovered_at is not None

    def rto_line(self) -> str:
        op = self.operation
        if op.recovery_s is None:
            return f"RTO: not reached (the fallback of {self.site} was not verified)"
        return f"RTO: {op.recovery_s:.1f} s from {op.started_at:%H:%M:%S} UTC to the verified fallback of {self.site}"


def _refuse(site_path: str, field: str, message: str, fix: str) -> InputError:
    return InputError(site_path, [Problem(field=field, message=message, fix=fix)])


def _started_at(site_path: str, declared_at: str | None) -> datetime:
    """When the RTO starts: the declaration's time (the event's), else now (a run started by hand)."""
    if not declared_at:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(declared_at)
    except ValueError:
        raise _refuse(
            site_path,
            "declared_at",
            f"{declared_at!r} is not an ISO 8601 time",
            "pass the event's time, e.g. 2026-01-31T12:00:00+00:00, or leave it out",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@flow(name="failover", flow_run_name=failover_run_name, log_prints=False)
def failover(
    site_path: str,
    reason: str,
    declared_by: str | None = None,
    isolation: str = POWER_OFF,
    declared_at: str | None = None,
    attest: list[str] | None = None,
    approver: str | None = None,
    report_dir: str | None = None,
    wait_s: int = DEFAULT_WAIT_S,
) -> FlowReturn[FailoverOutcome]:
    """Fail the site over to its contingency deployment; ends Failed naming what stopped it."""
    primary = load_site(Path(site_path))
    if primary.site.contingency is None:
        raise _refuse(
            site_path,
            "contingency",
            "is not defined: there is no fallback to fail over to",
            "add a contingency section and build it (securemode run)",
        )
    if isolation not in ISOLATIONS:
        raise _refuse(site_path, "isolation", f"unknown isolation {isolation!r}", f"use {' or '.join(ISOLATIONS)}")
    who = declared_by or approver or getpass.getuser()
    started = _started_at(site_path, declared_at)
    operation = Operation(kind="failover", reason=reason, declared_by=who, started_at=started)
    outcome = FailoverOutcome(
        site=primary.site.name,
        isolation=isolation,
        operation=operation,
        report_dir=report_dir or str(reports_root() / artifact_key(flow_run.name or run_name(site_path, "failover"))),
    )
    timeline = Timeline(operation.timeline)
    fallback = load_fallback(primary)
    try:
        with timeline.step("preconditions") as notes:
            problems = precondition_problems(primary)
            notes.extend(problems)
        if problems:
            outcome.problems = problems
            return _finish(primary, outcome, "failover refused, nothing was changed: " + "; ".join(problems))
        _take_over(primary, fallback, isolation, wait_s, timeline, outcome)
        with timeline.step("verify fallback") as notes:
            outcome.results, stopping = prove_fallback(fallback)
            notes.append(f"{len(outcome.results)} results")
        if stopping:
            outcome.problems = [verdict(stopping)]
            return _finish(primary, outcome, f"the fallback is up but not proven: {verdict(stopping)}")
        operation.recovered_at = operation.timeline[-1].ended_at
        operation.recovery_s = (operation.recovered_at - operation.started_at).total_seconds()
        with timeline.step("licence transfer") as notes:
            outcome.licence = _licence(primary, who, attest or [], approver)
            notes.append(f"attested by {outcome.licence.who}")
    except FlowPauseTimeout as exc:
        outcome.problems = [str(exc)]
        return _finish(primary, outcome, f"the licence transfer was not attested: {exc}")
    except InputError:
        raise
    except Exception as exc:  # one clear message (the traceback is in the run's log)
        step = operation.timeline[-1].step if operation.timeline else "start"
        outcome.problems = [f"{step}: {type(exc).__name__}: {redact(str(exc))}"]
        get_run_logger().exception("failover stopped at %s", step)
        return _finish(primary, outcome, f"failover stopped at {outcome.problems[0]}")
    return _finish(primary, outcome, None)


def _take_over(
    primary: LoadedSite, fallback: LoadedSite, isolation: str, wait_s: int, timeline: Timeline, outcome: FailoverOutcome
) -> None:
    """Isolate the primary, then bring the fallback up in the guide's order and mark the failover active."""
    plan = primary.site.contingency
    assert plan is not None
    with timeline.step(f"isolate primary ({isolation})") as notes, open_site_session(primary) as session:
        reader = PowerReader(session)
        planned = plan_isolation(reader, primary_vm_names(primary.site), isolation)
        notes.append(planned.describe())
        apply_isolation(reader, planned, plan.shutdown_wait_s)
    manager, nodes = plan.management_node.name, [n.name for n in plan.conferencing_nodes]
    with open_site_session(fallback) as session:
        reader = PowerReader(session)
        with timeline.step("power on fallback Management Node") as notes:
            apply_power_on(reader, plan_power_on(reader, [manager]))
            notes.append(manager)
        mark_failover(primary, outcome.operation.declared_by, outcome.operation.reason, isolation)
        with timeline.step("fallback Management Node HTTPS"):
            wait_for_management_node(fallback, wait_s)
        before = node_reports(fallback)  # the statuses kept from the nodes' last run
        with timeline.step("power on fallback conferencing nodes") as notes:
            apply_power_on(reader, plan_power_on(reader, nodes))
            notes.append(", ".join(nodes) or "none")
    with timeline.step("conferencing nodes DEPLOYED/SYNCED") as notes:
        notes.append(", ".join(wait_for_sync(fallback, wait_s, before=before)) or "none")


def _licence(primary: LoadedSite, who: str, attest: list[str], approver: str | None) -> Attestation:
    """The licence transfer, attested in advance (``--attest``) or by a person answering the paused run."""
    site = primary.site.name
    if LICENCE in attest:
        found = Attestation(
            control=LICENCE, target=CONTINGENCY_TARGET, who=approver or who, note="pre-attested", at=datetime.now(UTC)
        )
    else:
        attestations.forget(site, LICENCE, CONTINGENCY_TARGET)  # a former failover's answer is not this one's
        question = "the licence returned through Pexip support and re-activated on the fallback: by whom?"
        emit_event(
            event=APPROVAL_EVENT,
            resource=site_resource(site),
            payload={"text": redact(f"{LICENCE} on {site} awaits attestation: {question}, attest at {run_ui_url()}")},
        )
        answer = pause_for_input(
            LicenceInput,
            description=f"**Failover of {site}**: {question}",
            message=f"{LICENCE} awaits attestation: {question}",
            key=f"{site}-{LICENCE}",
            timeout_s=LICENCE_PAUSE_S,
        )
        found = Attestation(
            control=LICENCE, target=CONTINGENCY_TARGET, who=answer.who, note=answer.note, at=datetime.now(UTC)
        )
    attestations.record(site, found)
    return found


def _finish(
    primary: LoadedSite, outcome: FailoverOutcome, failure: str | None
) -> FlowReturn[FailoverOutcome]:
    """Write the report (results, licence row, timeline, RTO) and end Completed or Failed."""
    results = list(outcome.results)
    if outcome.licence is not None:
        row = licence_transfer(LICENCE, CONTINGENCY_TARGET, primary)
        results.append(row.model_copy(update={"attestation": outcome.licence}))
    report = Report(
        site=primary.site.name,
        generated_at=datetime.now(UTC),
        stages=["failover"],
        results=results,
        attestations=[outcome.licence] if outcome.licence else [],
        operation=outcome.operation,
    )
    directory = Path(outcome.report_dir or ".")
    write_reports(report, directory)
    headline = failure or f"the fallback carries the service; {outcome.rto_line()}"
    publish_run(primary.site.name, "failover", results, directory, headline)
    return failed_with(outcome, failure) if failure else outcome


def run_failover(**parameters: object) -> FailoverOutcome:
    """Call the failover flow in this process and return its outcome, Failed or not."""
    from securemode.flows.states import outcome_of

    return outcome_of(failover(**parameters, return_state=True), FailoverOutcome)  # type: ignore[arg-type]
