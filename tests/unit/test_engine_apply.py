"""The engine's one applier and how a step is run: plan once, ask the gate with that plan, apply exactly it.

CPU only: the steps here plan from an in-memory fact store and write into it.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from securemode.catalogue import Stage
from securemode.engine import (
    Change,
    Deferred,
    EngineContext,
    EnsureStep,
    NoApprovals,
    Planned,
    PreApproved,
    StageSpec,
    StepPlan,
    execute_step,
    plan_of,
    preview_step,
    run_steps_without_prefect,
)
from securemode.reports.model import Approval
from securemode.site_loader import LoadedSite, load_site
from tests.unit.sites import EXAMPLE, set_secrets

GATE = "host.lockdown"


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    return load_site(EXAMPLE)


class Device:
    """The facts of a pretend target: a dict, read by the planner and written by the actions."""

    def __init__(self, **state: Any) -> None:
        self.state = dict(state)
        self.writes: list[tuple[str, Any]] = []

    def write(self, key: str, value: Any) -> None:
        self.writes.append((key, value))
        self.state[key] = value


def _setting(device: Device, key: str, wanted: Any, blocked: str | None = None) -> EnsureStep:
    def plan(ctx: EngineContext, resources: ExitStack) -> StepPlan:
        have = device.state.get(key)
        if have == wanted:
            return plan_of()
        change = Change(control="host.stig.ESXI-80-000008", target="device", setting=key, current=have, desired=wanted)
        return plan_of(
            Planned(action=lambda: device.write(key, wanted), changes=(change,)),
            blocked=blocked,
            notes=[f"{key} planned"],
        )

    return EnsureStep(name=key, plan=plan, gated=GATE)


class CountingGate(NoApprovals):
    def __init__(self, approve: bool) -> None:
        self.asked: list[str] = []
        self.approve_all = approve

    def approve(self, step: str, summary: str) -> Approval | None:
        self.asked.append(summary)
        return Approval(step=step, who="alice", note="", at=datetime.now(UTC)) if self.approve_all else None


def test_plan_writes_nothing_and_a_run_applies_each_action_once(loaded: LoadedSite) -> None:
    device = Device(lockdown="off")
    step = _setting(device, "lockdown", "normal")
    planned = step.run(EngineContext(site=loaded, apply=False))
    assert [(c.current, c.desired, c.applied) for c in planned] == [("off", "normal", False)]
    assert device.writes == []
    gate = CountingGate(approve=True)
    ran = step.run(EngineContext(site=loaded, apply=True, gate=gate))
    assert [c.applied for c in ran] == [True] and device.writes == [("lockdown", "normal")]
    assert gate.asked == ["host.stig.ESXI-80-000008 [device] lockdown: 'off' → 'normal' (would change)"]
    assert step.run(EngineContext(site=loaded, apply=True, gate=gate)) == []  # compliant: nothing planned
    assert len(gate.asked) == 1  # and the gate is not asked for an empty plan


def test_a_gated_plan_is_not_applied_without_approval(loaded: LoadedSite) -> None:
    device = Device(lockdown="off")
    ctx = EngineContext(site=loaded, apply=True, gate=CountingGate(approve=False))
    changes = _setting(device, "lockdown", "normal").run(ctx)
    assert [c.applied for c in changes] == [False] and device.writes == []
    assert ctx.skipped[-1].startswith(f"{GATE}: not approved")


def test_a_blocked_plan_asks_no_gate_and_says_why(loaded: LoadedSite) -> None:
    device = Device(lockdown="off")
    gate = CountingGate(approve=True)
    ctx = EngineContext(site=loaded, apply=True, gate=gate)
    changes = _setting(device, "lockdown", "normal", blocked="host.lockdown: precondition not met: x").run(ctx)
    assert [c.applied for c in changes] == [False] and device.writes == [] and gate.asked == []
    assert ctx.skipped == ["lockdown planned", "host.lockdown: precondition not met: x"]
    plan_ctx = EngineContext(site=loaded, apply=False)
    _setting(device, "lockdown", "normal", blocked="precondition").run(plan_ctx)
    assert plan_ctx.skipped == ["lockdown planned"]  # a plan reports notes, not the run's preconditions


def test_the_approved_plan_is_applied_only_while_the_facts_still_give_it(loaded: LoadedSite) -> None:
    device = Device(lockdown="off")
    step = _setting(device, "lockdown", "normal")
    preview = preview_step(step, EngineContext(site=loaded, apply=True))
    approved = preview.changes
    device.state["lockdown"] = "strict-by-hand"  # the world moved between approval and apply
    ctx = EngineContext(site=loaded, apply=True, gate=PreApproved({GATE}, who="alice"))
    moved = execute_step(step, ctx, approved)
    assert moved.moved and device.writes == [] and [c.current for c in moved.changes] == ["strict-by-hand"]
    again = execute_step(step, ctx, moved.changes)
    assert not again.moved and device.writes == [("lockdown", "normal")]


def test_a_deferred_action_leaves_its_changes_unapplied_and_later_actions_run(loaded: LoadedSite) -> None:
    done: list[str] = []
    first = Change(control="pki.cert.trusted", target="conf01", setting="tls_certificate", current=None, desired=1)
    second = first.model_copy(update={"target": "mgr01"})
    plan = plan_of(
        Planned(action=lambda: Deferred("pki conf01: waiting for the signed certificate"), changes=(first,)),
        Planned(action=lambda: done.append("mgr01"), changes=(second,)),
    )
    step = EnsureStep(name="certs", plan=lambda ctx, resources: plan)
    ctx = EngineContext(site=loaded, apply=True)
    assert [(c.target, c.applied) for c in step.run(ctx)] == [("conf01", False), ("mgr01", True)]
    assert done == ["mgr01"] and ctx.skipped == ["pki conf01: waiting for the signed certificate"]


def test_an_action_that_creates_an_object_hands_back_the_plan_for_it(loaded: LoadedSite) -> None:
    made: list[str] = []
    deploy = Change(control="vms.ova.deployed", target="mgr01", setting="vm", current=None, desired="ova")
    resize = Change(control="vms.ova.deployed", target="mgr01", setting="numCPU", current=2, desired=4)

    def create() -> StepPlan:
        made.append("vm")
        return plan_of(Planned(action=lambda: made.append("resize"), changes=(resize,)), notes=["sized"])

    step = EnsureStep(name="vm", plan=lambda ctx, resources: plan_of(Planned(action=create, changes=(deploy,))))
    ctx = EngineContext(site=loaded, apply=True)
    assert [(c.setting, c.applied) for c in step.run(ctx)] == [("vm", True), ("numCPU", True)]
    assert made == ["vm", "resize"] and ctx.skipped == ["sized"]


def test_resources_stay_open_until_the_plan_is_applied_then_close(loaded: LoadedSite, tmp_path: Path) -> None:
    events: list[str] = []

    class Client:
        def __enter__(self) -> Client:
            events.append("open")
            return self

        def __exit__(self, *exc: object) -> None:
            events.append("close")

    def plan(ctx: EngineContext, resources: ExitStack) -> StepPlan:
        resources.enter_context(Client())
        change = Change(control="c", target="t", setting="s", current=0, desired=1)
        return plan_of(Planned(action=lambda: events.append("write"), changes=(change,)))

    run_steps_without_prefect([EnsureStep(name="s", plan=plan)], EngineContext(site=loaded, apply=True))
    assert events == ["open", "write", "close"]


def test_a_stage_names_its_steps(loaded: LoadedSite) -> None:
    device = Device()
    spec = StageSpec(
        stage=Stage.HOST, steps=(_setting(device, "a", 1), _setting(device, "b", 2)), verify=lambda site: []
    )
    assert spec.step("b").name == "b"
    with pytest.raises(KeyError, match="has no step 'c' \\(it has: a, b\\)"):
        spec.step("c")
