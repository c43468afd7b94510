"""Run a stage's ensure-steps in order without Prefect, as the stage flow does: the one place tests do so.

Kept a thin wrapper over each step's public run call, so a change in how a step is run touches only this
module. The gates still hold: a gated step whose gate did not approve it must not apply anything, and this
runner checks that on every call rather than trusting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from securemode.engine import Change, EngineContext, Gate, NoApprovals, PreApproved, StageSpec
from securemode.site_loader import LoadedSite


@dataclass
class StageRun:
    """What one pass over the steps did: the context (approvals, attestations, skips) and every change."""

    ctx: EngineContext
    changes: list[Change]

    @property
    def applied(self) -> list[Change]:
        return [c for c in self.changes if c.applied]

    def controls(self) -> set[str]:
        return {c.control for c in self.changes}


def approving(steps: Iterable[str], who: str = "tester", attest: Iterable[str] = ()) -> PreApproved:
    """A gate that approves exactly ``steps`` (and attests exactly ``attest``), as ``--approve`` does."""
    return PreApproved(set(steps), who=who, attest_controls=set(attest))


def run_steps(spec: StageSpec, loaded: LoadedSite, apply: bool, gate: Gate | None = None) -> StageRun:
    """Every ensure-step of ``spec`` in order on one context; without ``gate`` nothing is approved."""
    ctx = EngineContext(site=loaded, apply=apply, gate=gate or NoApprovals())
    changes: list[Change] = []
    for step in spec.steps:
        made = step.run(ctx)
        if step.gated and not any(a.step == step.gated for a in ctx.approvals):
            ungated = [c.render() for c in made if c.applied]
            assert not ungated, f"{step.gated} was not approved, yet {step.name} applied: {ungated}"
        changes += made
    return StageRun(ctx=ctx, changes=changes)
