"""What a stage run produced, and the rule that decides whether the next stage may start (pure logic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from securemode.engine import Change
from securemode.reports.model import Approval
from securemode.results import Attestation, Result, Status

ALWAYS_OK = frozenset({Status.PASS, Status.WAIVED, Status.NOT_APPLICABLE})


class StageOutcome(BaseModel):
    """One stage's changes, results, approvals and skipped gated steps."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    applied: bool
    changes: list[Change] = Field(default_factory=list)
    results: list[Result] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    task_body_s: dict[str, float] = Field(default_factory=dict, description="Seconds inside each task's body.")


def blocks_next_stage(result: Result, allow_error: frozenset[str]) -> bool:
    """True when this result stops the pipeline: FAIL, ERROR (unless allowed), or an unattested MANUAL."""
    if result.status in ALWAYS_OK:
        return False
    if result.status is Status.MANUAL:
        return result.attestation is None
    if result.status is Status.ERROR:
        return result.control not in allow_error
    return True


def blockers(results: list[Result], allow_error: frozenset[str]) -> list[Result]:
    return [r for r in results if blocks_next_stage(r, allow_error)]


def describe_blockers(stage: str, found: list[Result]) -> str:
    """One message naming every control (and target) that stops the pipeline."""
    names = ", ".join(f"{r.control} [{r.target}] {r.status.value}" for r in found)
    return f"stage {stage} is not compliant; the pipeline stops here: {names}"


def verdict(found: list[Result]) -> str:
    """Controls that do not hold, grouped by status so FAIL and ERROR are named apart."""
    groups: dict[str, list[str]] = {}
    for r in found:
        label = "MANUAL (not attested)" if r.status is Status.MANUAL else r.status.value
        groups.setdefault(label, []).append(f"{r.control} [{r.target}]")
    order = ["FAIL", "ERROR", "MANUAL (not attested)"]
    return "; ".join(f"{label}: {', '.join(groups[label])}"
                     for label in sorted(groups, key=lambda g: order.index(g) if g in order else len(order)))
