"""The shape every stage follows (design principles 2–5), independent of Prefect.

A stage is an ordered list of ensure-steps and a verify function:

* an ensure-step reads facts (through a client), hands them to a pure planner that returns a
  :class:`StepPlan` (the Changes and the actions that make them), and one shared applier,
  :func:`apply_plan`, runs those actions only when ``ctx.apply`` is true; ``plan`` is the same code
  with writes off, and a second ``run`` on a compliant deployment plans nothing;
* a gated step (irreversible or lockout-prone) is applied only when its plan is not blocked (its
  preconditions hold) and the :class:`Gate` approves that very plan; without approval it is skipped
  and says so;
* the verify function runs the independent verifiers and returns one :class:`Result` per control
  and target — it never reuses a task's session or return values.

Flows in ``flows/`` wrap these in Prefect tasks; the CLI drives those flows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from securemode.catalogue import Stage
from securemode.reports.model import Approval
from securemode.results import Attestation, JsonValue, Result
from securemode.site_loader import LoadedSite


class Change(BaseModel):
    """One setting on one target: what it is, what it should be, and whether we changed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str
    target: str
    setting: str
    current: JsonValue
    desired: JsonValue
    applied: bool = False
    current_known: bool = True  # False: the current value could not be read, so a run changes it only if it differs

    def render(self) -> str:
        verb = "changed" if self.applied else "would change" if self.current_known else "would change if it differs"
        return f"{self.control} [{self.target}] {self.setting}: {self.current!r} → {self.desired!r} ({verb})"


class Gate(Protocol):
    """Who approves gated steps and attests manual controls (CLI flag or prompt, site policy, Prefect UI)."""

    def approve(self, step: str, summary: str) -> Approval | None:
        """An approval for ``step``, or None when it is not approved."""

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        """A person's attestation that a MANUAL control holds, or None."""


class NoApprovals:
    """The gate of `plan` and of unattended runs without pre-approval: nothing is approved."""

    def approve(self, step: str, summary: str) -> Approval | None:
        return None

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        return None


class PreApproved:
    """Approvals given in advance, by step name, in the site file or with ``--approve STEP``."""

    def __init__(self, steps: set[str], who: str, attest_controls: set[str] | None = None) -> None:
        self.steps = steps
        self.who = who
        self.attest_controls = attest_controls or set()

    def approve(self, step: str, summary: str) -> Approval | None:
        if step not in self.steps:
            return None
        return Approval(step=step, who=self.who, note="pre-approved", at=datetime.now(UTC))

    def attest(self, control: str, target: str, question: str) -> Attestation | None:
        if control not in self.attest_controls:
            return None
        return Attestation(control=control, target=target, who=self.who, note="pre-attested",
                           at=datetime.now(UTC))


@dataclass
class EngineContext:
    """What a step needs: the site, whether to write, who approves, and what was approved so far."""

    site: LoadedSite
    apply: bool
    gate: Gate = field(default_factory=NoApprovals)
    approvals: list[Approval] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def approved(self, step: str, summary: str) -> bool:
        """Ask the gate; record the approval, or record that the step was skipped for want of one."""
        if not self.apply:
            return False
        approval = self.gate.approve(step, summary)
        if approval is None:
            self.skipped.append(f"{step}: not approved ({summary})")
            return False
        self.approvals.append(approval)
        return True


Action = Callable[[], object]
VerifyFn = Callable[[LoadedSite], list[Result]]


@dataclass(frozen=True)
class Deferred:
    """What an action returns when it could not finish yet (a CA that has not signed): its Changes stay
    unapplied and ``reason`` is reported as skipped."""

    reason: str


@dataclass(frozen=True)
class Planned:
    """One action and the settings it changes (one call may change several, e.g. a vSwitch's policy)."""

    action: Action
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class StepPlan:
    """What a planner computed from the facts: the actions in order, and what a person must know.

    ``notes`` are reported in plan and run alike; ``blocked`` says why the plan cannot be applied now (a
    precondition): a run then writes nothing and reports it; ``summary`` is what the gate is asked.
    """

    planned: tuple[Planned, ...] = ()
    notes: tuple[str, ...] = ()
    blocked: str | None = None
    summary: str | None = None

    @property
    def changes(self) -> list[Change]:
        return [c for item in self.planned for c in item.changes]

    def gate_summary(self) -> str:
        return self.summary or "\n".join(c.render() for c in self.changes)


def plan_of(*planned: Planned, notes: Sequence[str] = (), blocked: str | None = None,
            summary: str | None = None) -> StepPlan:
    """A StepPlan from loose parts (planners build lists)."""
    return StepPlan(planned=tuple(planned), notes=tuple(notes), blocked=blocked, summary=summary)


PlanFn = Callable[[EngineContext, ExitStack], StepPlan]
"""Read the facts (clients opened on the ExitStack stay open until the plan is applied) and plan."""


def apply_plan(plan: StepPlan, ctx: EngineContext) -> list[Change]:
    """The one applier: run each action in order when applying; return every Change, marked applied
    when its action ran (and did not defer). An action may return the plan for what it created."""
    if not ctx.apply:
        return plan.changes
    if plan.blocked is not None:
        ctx.skipped.append(plan.blocked)
        return plan.changes
    done: list[Change] = []
    for item in plan.planned:
        outcome = item.action()
        if isinstance(outcome, Deferred):
            ctx.skipped.append(outcome.reason)
            done += item.changes
            continue
        done += [c.model_copy(update={"applied": True}) for c in item.changes]
        if isinstance(outcome, StepPlan):  # it created what the rest is planned on (a VM from its OVA)
            ctx.skipped += outcome.notes
            done += apply_plan(outcome, ctx)
    return done


@dataclass(frozen=True)
class StepRun:
    """What running one step gave: its Changes, and whether the world moved away from the approved plan."""

    changes: list[Change]
    moved: bool = False


@dataclass(frozen=True)
class EnsureStep:
    """One idempotent ensure-operation of a stage; ``gated`` names the approval it needs, if any."""

    name: str
    plan: PlanFn
    gated: str | None = None
    transient_errors: tuple[type[BaseException], ...] = ()

    def run(self, ctx: EngineContext) -> list[Change]:
        """Plan, ask the gate when gated, apply: the whole step without Prefect."""
        return execute_step(self, ctx).changes


def preview_step(step: EnsureStep, ctx: EngineContext) -> StepPlan:
    """Read the facts and plan, writing nothing and asking no gate (what a gate is shown)."""
    with ExitStack() as resources:
        return step.plan(ctx, resources)


def execute_step(step: EnsureStep, ctx: EngineContext, approved_plan: Sequence[Change] | None = None) -> StepRun:
    """Plan once, ask the gate with that plan when the step is gated, and apply exactly that plan.

    ``approved_plan``: the Changes a person already approved (the flow asked at its own level); when
    the fresh facts plan something else, nothing is applied and the run says the world moved.
    """
    with ExitStack() as resources:
        plan = step.plan(ctx, resources)
        ctx.skipped += plan.notes
        changes = plan.changes
        if approved_plan is not None and changes != list(approved_plan):
            return StepRun(changes=changes, moved=True)
        if ctx.apply and step.gated and changes and plan.blocked is None \
                and not ctx.approved(step.gated, plan.gate_summary()):
            return StepRun(changes=changes)
        return StepRun(changes=apply_plan(plan, ctx))


def run_steps_without_prefect(steps: Sequence[EnsureStep], ctx: EngineContext) -> list[Change]:
    """Every step in order, as a stage flow runs them (gates kept, asked through ``ctx.gate``)."""
    changes: list[Change] = []
    for step in steps:
        changes += step.run(ctx)
    return changes


@dataclass(frozen=True)
class StageSpec:
    stage: Stage
    steps: tuple[EnsureStep, ...]
    verify: VerifyFn

    def step(self, name: str) -> EnsureStep:
        """The step called ``name`` (a KeyError names the stage's steps when there is none)."""
        for step in self.steps:
            if step.name == name:
                return step
        names = ", ".join(s.name for s in self.steps)
        raise KeyError(f"stage {self.stage.value} has no step {name!r} (it has: {names})")
