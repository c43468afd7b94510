"""`secure-mode-deployment`: the stages in the guide's order, each gated on the previous one's results.

The next stage starts only when every control of the previous one is PASS, WAIVED, NOT_APPLICABLE or an
attested MANUAL. FAIL stops the pipeline naming the controls; ERROR stops it too unless the site allows
it for that control. Re-running resumes: finished, still-compliant work is a no-op.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import deployment, flow_run
from pydantic import BaseModel, Field

from securemode.catalogue import Stage
from securemode.engine import Change
from securemode.flows import stages
from securemode.flows.artifacts import artifact_key, publish_run
from securemode.flows.fanout import in_threads
from securemode.flows.gates import stages_started_from_deployment
from securemode.flows.naming import pipeline_run_name, run_name
from securemode.flows.stage import STAGE_FLOWS
from securemode.flows.states import FlowReturn, failed_with, outcome_of, unwalked
from securemode.outcome import StageOutcome, blockers, describe_blockers, verdict
from securemode.problems import InputError
from securemode.report_links import reports_root
from securemode.reports import Report, write_reports
from securemode.reports.model import control_info
from securemode.site_loader import load_site


class StageError(Exception):
    """A stage stopped on an error; the message names the stage and the cause."""


class PipelineOutcome(BaseModel):
    site: str
    mode: str
    stages: list[StageOutcome] = Field(default_factory=list)
    stopped_at: str | None = None
    problems: list[str] = Field(default_factory=list)
    report_dir: str | None = None

    def compliant(self) -> bool:
        """Every required control holds (a plan proves nothing, nor does a run that checked no control)."""
        return not self.problems and self.mode != "plan" and any(o.results for o in self.stages)

    def pending_changes(self) -> list[Change]:
        """Settings that differ from the site file and were not changed (all of a plan's changes)."""
        return [c for s in self.stages for c in s.changes if not c.applied]


def selected_stages(names: list[str] | None) -> list[Stage]:
    """Requested stages in pipeline order (all built ones when none are named)."""
    wanted = [Stage(n) for n in names] if names else stages.available()
    return [s for s in stages.PIPELINE_ORDER if s in wanted]


def build_report(site_name: str, outcome_stages: list[StageOutcome]) -> Report:
    results = [r for o in outcome_stages for r in o.results]
    names = stages.bound_names()
    checked = [cid for cid in dict.fromkeys(r.control for r in results) if cid in names]
    controls = {cid: control_info(cid, names[cid].fix, names[cid].verifiers if names[cid].built else None)
                for cid in checked}
    return Report(site=site_name, generated_at=datetime.now(UTC), stages=[o.stage for o in outcome_stages],
                  results=results, controls=controls,
                  approvals=[a for o in outcome_stages for a in o.approvals],
                  attestations=[a for o in outcome_stages for a in o.attestations])


@flow(name="secure-mode-deployment", flow_run_name=pipeline_run_name, log_prints=False)
def secure_mode_deployment(site_path: str, stage_names: list[str] | None = None, mode: str = "run",
                           approve: list[str] | None = None, attest: list[str] | None = None,
                           approver: str | None = None, interactive: bool = False,
                           report_dir: str | None = None, controls: list[str] | None = None,
                           ) -> FlowReturn[PipelineOutcome]:
    """Run (mode 'run'), plan ('plan') or only verify ('verify') the selected stages in order."""
    loaded = load_site(Path(site_path))
    allow_error = frozenset(loaded.site.allow_error)
    deployed = bool(deployment.id)  # started from the UI or a schedule
    if report_dir is None and mode != "plan" and deployed:
        report_dir = str(reports_root() / artifact_key(flow_run.name or run_name(site_path, mode)))
    outcome = PipelineOutcome(site=loaded.site.name, mode=mode, report_dir=report_dir)
    failing: list[str] = []

    def one(stage: Stage) -> StageOutcome:
        try:
            return outcome_of(STAGE_FLOWS[stage](
                site_path=site_path, apply=mode == "run", verify=mode != "plan", approve=approve or [],
                attest=attest or [], approver=approver, interactive=interactive, report_dir=report_dir,
                controls=controls, run_steps=mode != "verify", return_state=True), StageOutcome)
        except InputError:
            raise
        except Exception as exc:
            raise StageError(f"stage {stage.value} ({mode}): {type(exc).__name__}: {exc}") from exc

    chosen = selected_stages(stage_names)
    # Only a run builds each stage on the previous one's changes; a plan or a verify run changes nothing
    # (and asks no one), so its stages run at once. An interactive gate keeps its prompts in order.
    with stages_started_from_deployment(deployed):
        ahead = in_threads([partial(one, stage) for stage in chosen]) if mode != "run" and not interactive \
            else None
        for index, stage in enumerate(chosen):
            result = ahead[index] if ahead is not None else one(stage)
            outcome.stages.append(result)
            stopping = blockers(result.results, allow_error)
            if stopping:
                outcome.problems.append(describe_blockers(stage.value, stopping))
                failing.append(f"stage {stage.value}: {verdict(stopping)}")
                if mode == "run":  # later stages build on this one; a verify run goes on to check them all
                    outcome.stopped_at = stage.value
                    break
    if mode != "plan" and not any(o.results for o in outcome.stages):
        nothing = ("no control was checked, so nothing is proven: name controls of the stages run "
                   "(securemode controls --stage STAGE lists them)")
        outcome.problems.append(nothing)
        failing.append(nothing)
    if report_dir and mode != "plan":
        report = build_report(loaded.site.name, outcome.stages)
        write_reports(report, Path(report_dir))
        publish_run(loaded.site.name, mode, report.results, Path(report_dir),
                    "compliant" if not failing else "not compliant: " + " | ".join(failing))
    if failing and mode != "plan":
        stop = f" (stopped at {outcome.stopped_at})" if outcome.stopped_at else ""
        return failed_with(outcome, f"not compliant{stop}: " + " | ".join(failing))
    return unwalked(outcome)


def run_pipeline(**parameters: Any) -> PipelineOutcome:
    """Call the pipeline flow in this process and return its outcome, compliant or not."""
    return outcome_of(secure_mode_deployment(**parameters, return_state=True), PipelineOutcome)
