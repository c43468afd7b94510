"""One Prefect flow per stage: ensure-steps as retryable tasks, gates at flow level, then the verifiers.

Parameters carry only the site file's path and names, never a secret (Prefect stores flow-run
parameters in its database); the site is loaded once per stage run and shared with its tasks by path.

A gated step is planned once (a preview: facts read as for a run, nothing written), the gate is asked
with that plan, and the run applies it only when fresh facts still give the same plan; when the world
moved in between, the new plan is put to the gate again rather than a stale one applied.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from prefect import Flow, Task, flow, task
from prefect.client.schemas.objects import State, TaskRun
from pydantic import BaseModel, Field

from securemode import attestations as attestation_store
from securemode.catalogue import Stage
from securemode.engine import (
    Change,
    EngineContext,
    EnsureStep,
    Gate,
    NoApprovals,
    PreApproved,
    execute_step,
    preview_step,
)
from securemode.flows import stages
from securemode.flows.artifacts import publish_stage
from securemode.flows.crashed_runs import untagged_tasks
from securemode.flows.naming import stage_run_name
from securemode.flows.progress import listener
from securemode.flows.runlog import log_approval, log_attestation, log_changes, log_not_approved, log_verdicts
from securemode.flows.states import FlowReturn, failed_with, unwalked
from securemode.outcome import StageOutcome, blockers, verdict
from securemode.pexip.connect import write_only_ledger
from securemode.results import Attestation, Result, Status
from securemode.site_loader import LoadedSite, load_site
from securemode.waivers import apply_waivers, load_waivers

RETRY_DELAYS_S = [1.0, 2.0, 4.0]
MAX_GATE_ASKS = 3  # a world that keeps moving between plan and apply is reported, not chased forever
_SHARED: ContextVar[dict[str, LoadedSite] | None] = ContextVar("securemode_stage_site", default=None)


@contextmanager
def _shared_site(loaded: LoadedSite) -> Iterator[None]:
    """Let this stage run's tasks use the site loaded once by the flow (tasks run in its thread, in its
    context; stage flows running at once in other threads each see their own)."""
    token = _SHARED.set({**(_SHARED.get() or {}), str(loaded.path): loaded})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _site(site_path: str) -> LoadedSite:
    """The stage run's loaded site; loaded here only when a task runs outside a stage flow."""
    return (_SHARED.get() or {}).get(site_path) or load_site(Path(site_path))


class TransientStepError(Exception):
    """A failure the step declared transient; the only kind Prefect retries."""


class StepOutcome(BaseModel):
    changes: list[Change] = Field(default_factory=list)
    body_s: float = 0.0
    attestations: list[Attestation] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    blocked: bool = False  # preview: a precondition fails, so the gate is not asked
    moved: bool = False  # apply: fresh facts no longer give the approved plan; nothing was applied


def _step(stage: Stage, name: str) -> EnsureStep:
    return stages.load(stage).step(name)


def _transient_only(task: Task[..., object], task_run: TaskRun, state: State[object]) -> bool:
    """Retry only errors the step declared transient (connection drops, 429, 5xx) — never bad input."""
    try:
        state.result()
    except TransientStepError:
        return True
    except Exception:
        return False
    return False


@task(retries=len(RETRY_DELAYS_S), retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=_transient_only,
      task_run_name="{stage}/{step}:{mode}")
def ensure_step(site_path: str, stage: str, step: str, mode: str, approved: list[str], attest: list[str],
                approver: str, approved_plan: list[Change] | None = None) -> StepOutcome:
    """Run one ensure-step; ``mode`` is 'plan', 'preview' (plan as for a run, write nothing, ask no
    gate) or 'apply' (of ``approved_plan``, when given, and only if the facts still give it)."""
    loaded = _site(site_path)
    gate = NoApprovals() if mode == "preview" else PreApproved(set(approved), who=approver,
                                                                attest_controls=set(attest))
    ctx = EngineContext(site=loaded, apply=mode != "plan", gate=gate)
    spec = _step(Stage(stage), step)
    started = time.perf_counter()
    moved = blocked = False
    try:
        if mode == "preview":
            plan = preview_step(spec, ctx)
            changes, blocked = plan.changes, plan.blocked is not None
            ctx.skipped += [*plan.notes, *([plan.blocked] if plan.blocked else [])]
        else:
            run = execute_step(spec, ctx, approved_plan)
            changes, moved = run.changes, run.moved
    except spec.transient_errors as exc:
        raise TransientStepError(f"{stage}/{step}: {type(exc).__name__}: {exc}") from exc
    log_changes(changes)
    return StepOutcome(changes=changes, attestations=ctx.attestations, skipped=ctx.skipped, blocked=blocked,
                       moved=moved, body_s=time.perf_counter() - started)


class VerifyOutcome(BaseModel):
    results: list[Result]
    body_s: float


@task(task_run_name="{stage}/verify")
def verify_stage(site_path: str, stage: str) -> VerifyOutcome:
    """Run the stage's independent verifiers (fresh sessions of their own)."""
    started = time.perf_counter()
    results = stages.load(Stage(stage)).verify(_site(site_path))
    log_verdicts(results)
    return VerifyOutcome(results=results, body_s=time.perf_counter() - started)


def run_stage(loaded: LoadedSite, stage: Stage, apply: bool, verify: bool, gate: Gate, approve: list[str],
              attest: list[str], approver: str, report_dir: Path | None,
              controls: list[str] | None = None, run_steps: bool = True) -> StageOutcome:
    """The body of every stage flow."""
    spec = stages.load(stage)
    path = str(loaded.path)
    outcome = StageOutcome(stage=stage.value, applied=apply)
    watcher = listener()
    if watcher:
        watcher.stage_started(stage.value)
    steps = spec.steps if run_steps else ()
    with _shared_site(loaded):
        _run_steps(path, stage, steps, apply, gate, approve, attest, approver, outcome)
        for attestation in outcome.attestations:
            attestation_store.record(loaded.site.name, attestation)
        if verify:
            verified = _verify_settled(loaded, path, stage, outcome)
            if _withdraw_failed_beliefs(loaded, verified.results) and apply and steps:
                # A write-only secret the ledger believed set does not work: write it again now, then re-verify.
                _run_steps(path, stage, steps, apply, gate, approve, attest, approver, outcome)
                verified = _verify_settled(loaded, path, stage, outcome)
            outcome.task_body_s["verify"] = verified.body_s
            found = verified.results
            if controls:
                found = [r for r in found if r.control in controls]
            outcome.results = _finish_results(loaded, found, gate, outcome)
            publish_stage(loaded.site.name, outcome, report_dir)
    if watcher:
        watcher.stage_finished(outcome)
    return outcome


SETTLE_POLL_S = 2.0


def _run_steps(path: str, stage: Stage, steps: tuple[EnsureStep, ...], apply: bool, gate: Gate,
               approve: list[str], attest: list[str], approver: str, outcome: StageOutcome) -> None:
    """Run the ensure-steps in order, adding what they report to ``outcome``."""
    watcher = listener()
    for step in steps:
        result = _run_step(path, stage, step, apply, gate, approve, attest, approver, outcome)
        outcome.changes += result.changes
        outcome.attestations += result.attestations
        outcome.skipped += result.skipped
        outcome.task_body_s[f"{step.name}"] = outcome.task_body_s.get(step.name, 0.0) + result.body_s
        if watcher:
            watcher.step_finished(stage.value, step.name, len(result.changes),
                                  sum(1 for c in result.changes if c.applied))


def _withdraw_failed_beliefs(loaded: LoadedSite, results: list[Result]) -> list[str]:
    """A behavioural FAIL withdraws the ledger's belief in the write-only secrets that control vouches
    for (an SNMP password changed behind our back), so plan and run write them again."""
    failed = {(r.control, r.target) for r in results if r.status is Status.FAIL}
    return write_only_ledger(loaded).forget_vouched_by(failed)


def _verify_settled(loaded: LoadedSite, path: str, stage: Stage, outcome: StageOutcome) -> VerifyOutcome:
    """Verify; when this run changed something, re-check failures until the nodes have pulled the change.

    Conferencing nodes apply configuration only when they next pull it from the management node, so a
    probe right after a change can see the old behaviour. Without changes, the first answer stands.
    """
    verified = verify_stage(path, stage.value)
    if not any(change.applied for change in outcome.changes):
        return verified
    deadline = time.monotonic() + loaded.site.replication_wait_s
    while time.monotonic() < deadline and any(r.status in {Status.FAIL, Status.ERROR} for r in verified.results):
        time.sleep(min(SETTLE_POLL_S, max(0.0, deadline - time.monotonic())))
        verified = verify_stage(path, stage.value)
    return verified


def _run_step(path: str, stage: Stage, step: EnsureStep, apply: bool, gate: Gate, approve: list[str],
              attest: list[str], approver: str, outcome: StageOutcome) -> StepOutcome:
    if not (apply and step.gated):
        return ensure_step(path, stage.value, step.name, "apply" if apply else "plan", approve, attest, approver)
    planned = ensure_step(path, stage.value, step.name, "preview", [], attest, approver)
    body_s = planned.body_s
    for _ in range(MAX_GATE_ASKS):
        if not planned.changes or planned.blocked:
            return planned.model_copy(update={"body_s": body_s})
        summary = "\n".join(change.render() for change in planned.changes)
        approval = gate.approve(step.gated, summary)
        if approval is None:
            log_not_approved(step.gated, summary)
            planned.skipped.append(f"{step.gated}: not approved, nothing applied; to apply it, run again with "
                                   f"--approve {step.gated} (or approve it in the Prefect UI).\nPlanned:\n{summary}")
            return planned.model_copy(update={"body_s": body_s})
        log_approval(approval)
        outcome.approvals.append(approval)
        applied = ensure_step(path, stage.value, step.name, "apply", [step.gated], attest, approval.who,
                              planned.changes)
        body_s += applied.body_s
        if not applied.moved:
            return applied.model_copy(update={"body_s": body_s})
        planned = applied  # the world moved after approval: ask again with the fresh plan
    planned.skipped.append(f"{step.gated}: the state kept changing between plan and approval; nothing applied")
    return planned.model_copy(update={"body_s": body_s})


def _finish_results(loaded: LoadedSite, results: list[Result], gate: Gate, outcome: StageOutcome) -> list[Result]:
    """Attach recorded attestations to MANUAL results (asking the gate once), then apply waivers."""
    known = attestation_store.load(loaded.site.name)
    finished = []
    for result in results:
        if result.status is Status.MANUAL and result.attestation is None:
            found = attestation_store.find(known, result.control, result.target) or gate.attest(
                result.control, result.target, result.message or "does this control hold?")
            if found is not None:
                log_attestation(found)
                attestation_store.record(loaded.site.name, found)
                if found not in outcome.attestations:
                    outcome.attestations.append(found)
                result = result.model_copy(update={"attestation": found})
        finished.append(result)
    waivers = load_waivers(loaded.resolve_path(loaded.site.waivers_file)) if loaded.site.waivers_file else []
    return apply_waivers(finished, waivers, datetime.now(UTC))


def _make_stage_flow(stage: Stage) -> Flow[..., FlowReturn[StageOutcome]]:
    def stage_flow(site_path: str, apply: bool = True, verify: bool = True, approve: list[str] | None = None,
                   attest: list[str] | None = None, approver: str | None = None, interactive: bool = False,
                   report_dir: str | None = None, controls: list[str] | None = None,
                   run_steps: bool = True) -> FlowReturn[StageOutcome]:
        from securemode.flows.gates import build_gate

        loaded = load_site(Path(site_path))
        gate = build_gate(loaded.site.approvals, approve or [], attest or [], approver, interactive,
                          loaded.site.name)
        with untagged_tasks():
            outcome = run_stage(loaded, stage, apply, verify, gate, approve or [], attest or [], approver or "",
                                Path(report_dir) if report_dir else None, controls, run_steps)
        stopping = blockers(outcome.results, frozenset(loaded.site.allow_error))
        if stopping:
            not_approved = [s.splitlines()[0] for s in outcome.skipped]
            return failed_with(outcome, f"stage {stage.value}: {verdict(stopping)}"
                               + "".join(f"; skipped {s}" for s in not_approved))
        return unwalked(outcome)

    stage_flow.__doc__ = f"Stage `{stage.value}` of the guide: ensure, then verify."
    return flow(name=f"stage-{stage.value}", flow_run_name=partial(stage_run_name, stage.value),
                log_prints=False)(stage_flow)


StageFlow = Flow[..., FlowReturn[StageOutcome]]
STAGE_FLOWS: dict[Stage, StageFlow] = {stage: _make_stage_flow(stage) for stage in Stage}
