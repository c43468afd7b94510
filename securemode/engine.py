"""The shape every stage follows (design principles 2–5), independent of Prefect.

A stage is an ordered list of ensure-steps and a verify function:

* an ensure-step reads current state, computes the diff against the site, and — only when
  ``ctx.apply`` is true — changes what differs; it returns the diff either way, so ``plan`` is the
  same code with writes off, and a second ``run`` on a compliant deployment returns no changes;
* a gated step (irreversible or lockout-prone) runs only after its preconditions hold and the
  :class:`Gate` approves it; without approval it is skipped and says so;
* the verify function runs the independent verifiers and returns one :class:`Result` per control
  and target — it never reuses a task's session or return values.

Flows in ``flows/`` wrap these in Prefect tasks; the CLI drives those flows.
"""

from __future__ import annotations

from collections.abc import Callable
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


EnsureFn = Callable[[EngineContext], list[Change]]
VerifyFn = Callable[[LoadedSite], list[Result]]


@dataclass(frozen=True)
class EnsureStep:
    """One idempotent ensure-operation of a stage; ``gated`` names the approval it needs, if any."""

    name: str
    run: EnsureFn
    gated: str | None = None
    transient_errors: tuple[type[BaseException], ...] = ()


@dataclass(frozen=True)
class StageSpec:
    stage: Stage
    steps: tuple[EnsureStep, ...]
    verify: VerifyFn
