"""How the CLI drives the flows: through the managed local Prefect server, with progress per stage."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from securemode import log_redaction
from securemode.deployments import prefect_server
from securemode.flows.crashed_runs import mark_crashed_runs, run_tags
from securemode.outcome import StageOutcome

if TYPE_CHECKING:
    from securemode.flows.pipeline import PipelineOutcome
from securemode.prefect_env import apply_prefect_settings
from securemode.redact import redact
from securemode.results import Status
from securemode.site_loader import load_site

EXIT_OK = 0
EXIT_NOT_COMPLIANT = 1
# `plan` only: settings differ from the site file (terraform's `plan -detailed-exitcode` says this with 2,
# which is bad input here).
EXIT_CHANGES_PENDING = 4


@dataclass
class ConsoleProgress:
    """Rich progress lines per stage and step (the CLI's listener)."""

    console: Console
    mode: str
    lines: list[str] = field(default_factory=list)

    def stage_started(self, stage: str) -> None:
        self.console.print(f"[bold]{stage}[/bold]: {self.mode}…")

    def step_finished(self, stage: str, step: str, planned: int, applied: int) -> None:
        self.console.print(f"  {stage}/{step}: {step_line(self.mode, planned, applied)}", markup=False,
                           highlight=False)

    def stage_finished(self, outcome: StageOutcome) -> None:
        for change in outcome.changes:
            self.console.print(f"    {redact(change.render())}", markup=False, highlight=False)
        for skipped in outcome.skipped:
            self.console.print(f"    skipped: {skipped}", markup=False, highlight=False)


def step_line(mode: str, planned: int, applied: int) -> str:
    """What a step did, as the progress line says it: what was applied, never what was only planned."""
    if not planned:
        return "ok"
    if mode != "run":
        return f"{planned} setting(s) would change"
    parts = [f"{applied} setting(s) changed"] if applied else []
    if planned > applied:
        parts.append(f"{planned - applied} planned, not applied")
    return ", ".join(parts)


class StageFailed(Exception):
    """A stage could not finish; the message says which and why (the traceback is in the Prefect UI)."""


def connect_prefect(quiet_console: bool = True) -> str:
    """Start (or reuse) the local server and point this process at it; returns the UI URL.

    With ``quiet_console`` Prefect's own console log lines (and tracebacks) stay out of the terminal:
    the CLI prints progress and one clean message per problem; the full logs are in the Prefect UI.
    """
    info, _ = prefect_server.ensure_running()
    apply_prefect_settings(info.api_url)
    if quiet_console:
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL"] = "CRITICAL"
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL"] = "CRITICAL"
    log_redaction.install()
    return info.ui_url


def drive(site: Path, stages: list[str] | None, mode: str, approve: list[str], attest: list[str],
          approver: str | None, report_dir: Path | None, interactive: bool, console: Console,
          only_controls: list[str] | None = None) -> int:
    """Run the pipeline flow in this process; print a summary table; return the command's exit code."""
    ui = connect_prefect()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode.flows.pipeline import run_pipeline
    from securemode.flows.progress import LISTENER

    console.print(f"Prefect UI: {ui}", markup=False)
    site_name = load_site(site).site.name
    for name in mark_crashed_runs(site_name):
        console.print(f"flow run {name}: marked CRASHED (its process is gone)", markup=False)
    token = LISTENER.set(ConsoleProgress(console, mode))
    report_path = str(report_dir.resolve()) if report_dir else None
    try:
        # Each sync (sub)flow otherwise waits ~1 s for its heartbeat thread (reference/prefect.md §2).
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), run_tags(site_name):
            outcome = _pipeline(run_pipeline,
                site_path=str(site.resolve()), stage_names=stages, mode=mode, approve=approve, attest=attest,
                approver=approver, interactive=interactive, report_dir=report_path, controls=only_controls)
    finally:
        LISTENER.reset(token)
    if mode != "plan":
        console.print(summary_table(outcome.stages))
    for problem in outcome.problems:
        console.print(problem, markup=False, highlight=False, style="red")
    if report_dir and mode != "plan":
        console.print(f"reports: {report_dir / 'report.html'}", markup=False)
    if mode == "plan":
        pending = len(outcome.pending_changes())
        console.print(f"plan: {pending} change(s) pending" if pending else "plan: no changes; the deployment "
                      "matches the site file", markup=False)
    return exit_code(outcome)


def exit_code(outcome: PipelineOutcome) -> int:
    """0 compliant (plan: nothing to change), 1 not compliant, 4 a plan with changes pending."""
    if outcome.mode == "plan":
        return EXIT_CHANGES_PENDING if outcome.pending_changes() else EXIT_OK
    return EXIT_OK if outcome.compliant() else EXIT_NOT_COMPLIANT


def _pipeline(pipeline: Callable[..., PipelineOutcome], **parameters: object) -> PipelineOutcome:
    """Run the pipeline flow; a failure inside a stage becomes one clean message, never a traceback."""
    from securemode.problems import InputError

    try:
        return pipeline(**parameters)
    except InputError:
        raise
    except Exception as exc:
        raise StageFailed(f"{type(exc).__name__}: {redact(str(exc))}") from None


def summary_table(outcomes: list[StageOutcome]) -> Table:
    table = Table(title="securemode summary")
    table.add_column("stage")
    for status in Status:
        table.add_column(status.value, justify="right")
    table.add_column("changed", justify="right")
    for o in outcomes:
        counts = [sum(1 for r in o.results if r.status is s) for s in Status]
        table.add_row(o.stage, *(str(c) for c in counts), str(sum(1 for c in o.changes if c.applied)))
    return table
