"""`reverify`: run every verifier on a schedule, compare with the last run, raise an event on drift."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from prefect import flow
from prefect.events import emit_event
from prefect.runtime import deployment
from pydantic import BaseModel, Field

from securemode.catalogue import BY_ID, Stage
from securemode.flows.artifacts import publish_run
from securemode.flows.crashed_runs import untagged_tasks
from securemode.flows.events import DRIFT_EVENT, DRIFT_RESPONSE_LABEL, run_ui_url, site_resource
from securemode.flows.fanout import in_threads
from securemode.flows.gates import build_gate, stages_started_from_deployment
from securemode.flows.naming import reverify_run_name
from securemode.flows.pipeline import build_report, selected_stages
from securemode.flows.stage import run_stage
from securemode.flows.states import FlowReturn, failed_with, outcome_of
from securemode.outcome import StageOutcome, blockers, verdict
from securemode.paths import state_dir
from securemode.report_links import report_url
from securemode.reports import render_reports, write_rendered
from securemode.reports.history import load_history, point_of, write_point
from securemode.reports.json_report import read_report
from securemode.reports.model import Report
from securemode.results import Status
from securemode.site_loader import LoadedSite, load_site


class Drift(BaseModel):
    control: str
    target: str
    before: Status
    now: Status


class ReverifyOutcome(BaseModel):
    site: str
    report_dir: str
    drift: list[Drift] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)


def find_drift(previous: Report | None, current: Report) -> list[Drift]:
    """Controls that held before (PASS) and do not now (FAIL or ERROR)."""
    if previous is None:
        return []
    before = {(r.control, r.target): r.status for r in previous.results}
    return [Drift(control=r.control, target=r.target, before=before[(r.control, r.target)], now=r.status)
            for r in current.results
            if before.get((r.control, r.target)) is Status.PASS and r.status in {Status.FAIL, Status.ERROR}]


def drift_text(drift: list[Drift]) -> str:
    return ", ".join(f"{d.control} [{d.target}] {d.before.value}→{d.now.value}" for d in drift)


def history_dir(site_name: str) -> Path:
    return state_dir() / "reverify" / site_name


@flow(name="reverify", flow_run_name=reverify_run_name, log_prints=False)
def reverify(site_path: str, stage_names: list[str] | None = None) -> FlowReturn[ReverifyOutcome]:
    """Verify every stage without changing anything (the stages at once); report drift since the last run.

    Ends Failed when a control no longer holds, naming the drift first, then every FAIL and ERROR.
    """
    loaded = load_site(Path(site_path))
    name = loaded.site.name
    with stages_started_from_deployment(bool(deployment.id)):
        outcomes = in_threads([partial(_verify_stage, loaded, stage) for stage in selected_stages(stage_names)])
    current = build_report(name, outcomes)
    last = history_dir(name) / "last"
    previous = read_report(last / "report.json") if (last / "report.json").exists() else None
    drift = find_drift(previous, current)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = history_dir(name) / stamp
    history = [*load_history(history_dir(name)), point_of(current)]
    rendered = render_reports(current, history=history)  # once, for this run's folder and for `last`
    write_rendered(rendered, run_dir)
    write_point(current, run_dir)
    write_rendered(rendered, last)
    if drift:
        severities = sorted({BY_ID[d.control].severity.value for d in drift if d.control in BY_ID})
        response = loaded.site.drift_response.for_severities(severities)
        emit_event(
            event=DRIFT_EVENT,
            resource={**site_resource(name), DRIFT_RESPONSE_LABEL: response},
            payload={"drift": [d.model_dump(mode="json") for d in drift], "report": str(run_dir / "report.json"),
                     "severities": severities, "response": response,
                     "text": f"drift on {name}: {drift_text(drift)}; report "
                             f"{report_url(run_dir, 'report.html') or run_dir / 'report.html'}; run {run_ui_url()}"},
        )
    outcome = ReverifyOutcome(site=name, report_dir=str(run_dir), drift=drift,
                              counts={s.value: n for s, n in current.counts().items()})
    stopping = blockers(current.results, frozenset(loaded.site.allow_error))
    parts = [f"drift: {drift_text(drift)}"]
    message = "; ".join((parts if drift else []) + ([verdict(stopping)] if stopping else []))
    publish_run(name, "reverify", current.results, run_dir, message or "every control holds")
    if drift or stopping:
        return failed_with(outcome, message)
    return outcome


def _verify_stage(loaded: LoadedSite, stage: Stage) -> StageOutcome:
    """One stage's verifiers as a task of this run, not a stage flow of its own: nothing is applied, so a
    subflow per stage would only add eight flow runs' bookkeeping (with the site loaded eight times
    more), which on a busy engine delays the probes' start by up to a second."""
    gate = build_gate(loaded.site.approvals, [], [], None, False, loaded.site.name)
    with untagged_tasks():
        return run_stage(loaded, stage, apply=False, verify=True, gate=gate, approve=[], attest=[], approver="",
                         report_dir=None, run_steps=False)


def run_reverify(site_path: str, stage_names: list[str] | None = None) -> ReverifyOutcome:
    """Call the reverify flow in this process and return its outcome, drift or not."""
    return outcome_of(reverify(site_path=site_path, stage_names=stage_names, return_state=True), ReverifyOutcome)
