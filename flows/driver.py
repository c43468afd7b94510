"""How the CLI drives the flows: through the managed local Prefect server, with progress per stage."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from securemode import log_redaction, prefect_server
from securemode.outcome import StageOutcome

if TYPE_CHECKING:
    from flows.pipeline import PipelineOutcome
from securemode.prefect_env import apply_prefect_settings
from securemode.redact import redact
from securemode.results import Status


@dataclass
class ConsoleProgress:
    """Rich progress lines per stage and step (the CLI's listener)."""

    console: Console
    mode: str
    lines: list[str] = field(default_factory=list)

    def stage_started(self, stage: str) -> None:
        self.console.print(f"[bold]{stage}[/bold]: {self.mode}…")

    def step_finished(self, stage: str, step: str, changes: int, applied: int | None = None) -> None:
        """Say what was applied and what was only planned (a gated step without approval applies nothing)."""
        if self.mode != "run":
            said = f"{changes} setting(s) would change" if changes else "ok"
        else:
            done = changes if applied is None else applied
            parts = [f"{done} setting(s) changed"] if done else []
            parts += [f"{changes - done} planned, not applied"] if changes - done else []
            said = ", ".join(parts) or "ok"
        self.console.print(f"  {stage}/{step}: {said}", markup=False, highlight=False)

    def stage_finished(self, outcome: StageOutcome) -> None:
        for change in outcome.changes:
            self.console.print(f"    {change.render()}", markup=False, highlight=False)
        for skipped in outcome.skipped:
            self.console.print(f"    skipped: {skipped}", markup=False, highlight=False)


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
          only_controls: list[str] | None = None) -> bool:
    """Run the pipeline flow in this process; print a summary table; True when compliant."""
    ui = connect_prefect()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.pipeline import run_pipeline
    from flows.progress import LISTENER

    console.print(f"Prefect UI: {ui}", markup=False)
    token = LISTENER.set(ConsoleProgress(console, mode))
    report_path = str(report_dir.resolve()) if report_dir else None
    try:
        # Each sync (sub)flow otherwise waits ~1 s for its heartbeat thread (reference/prefect.md §2).
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
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
    return outcome.compliant() if mode != "plan" else True


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
