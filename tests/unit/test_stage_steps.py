"""The tests' one step runner keeps the gates: a gated step that applies without its approval is caught."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from securemode.catalogue import Stage
from securemode.engine import Change, EngineContext, EnsureStep, Planned, StageSpec, StepPlan, plan_of
from securemode.site_loader import LoadedSite, load_site
from tests.stage_steps import approving, run_steps
from tests.unit.sites import example_document, set_secrets, write_site

GATE = "host.lockdown"


def change(applied: bool) -> Change:
    return Change(
        control="host.lockdown", target="esxi", setting="lockdownMode", current="off", desired="on", applied=applied
    )


WRITES: list[str] = []  # what the fake steps "wrote", in order


def honest(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Plans the write as an action: the engine runs it only once the gate approves."""
    return plan_of(Planned(action=lambda: WRITES.append("lock"), changes=(change(False),)), summary="lock the host")


def reckless(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Writes while it reads (what the one plan/apply engine forbids), whatever the gate says."""
    if ctx.apply:
        WRITES.append("lock")
    return plan_of(Planned(action=lambda: None, changes=(change(ctx.apply),)))


@pytest.fixture(autouse=True)
def _forget_writes() -> None:
    WRITES.clear()


def spec(step: EnsureStep) -> StageSpec:
    return StageSpec(stage=Stage.HOST, steps=(step,), verify=lambda loaded: [])


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    return load_site(write_site(tmp_path, example_document()))


def test_an_approved_gated_step_applies(loaded: LoadedSite) -> None:
    ran = run_steps(spec(EnsureStep("lockdown", honest, gated=GATE)), loaded, apply=True, gate=approving({GATE}))
    assert [c.applied for c in ran.changes] == [True]
    assert [a.step for a in ran.ctx.approvals] == [GATE]
    assert WRITES == ["lock"]


def test_an_unapproved_gated_step_is_skipped(loaded: LoadedSite) -> None:
    ran = run_steps(spec(EnsureStep("lockdown", honest, gated=GATE)), loaded, apply=True)
    assert [c.applied for c in ran.changes] == [False]
    assert ran.ctx.skipped == [f"{GATE}: not approved (lock the host)"]
    assert WRITES == []


def test_a_gated_step_that_applies_without_approval_fails_the_test(loaded: LoadedSite) -> None:
    with pytest.raises(AssertionError, match=r"host\.lockdown was not approved, yet lockdown applied"):
        run_steps(spec(EnsureStep("lockdown", reckless, gated=GATE)), loaded, apply=True)
