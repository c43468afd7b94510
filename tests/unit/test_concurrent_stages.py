"""Work run at once keeps its meaning: results in order, every failure surfaced, context carried over,
and sessions run alongside the ordered ones still give each control its own result."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from typing import Any

import pytest

from securemode.binding import Binding, Planned, Proof, Target, run_sessions
from securemode.catalogue import BY_ID
from securemode.flows.fanout import in_threads
from securemode.results import Result, probe

MARK: ContextVar[str] = ContextVar("mark", default="unset")


def test_results_come_back_in_call_order_with_the_callers_context() -> None:
    MARK.set("caller")

    def slow(i: int) -> tuple[int, str, str]:
        time.sleep(0.05 * (3 - i))  # the first call finishes last
        return i, MARK.get(), threading.current_thread().name

    got = in_threads([lambda i=i: slow(i) for i in range(3)])
    assert [g[0] for g in got] == [0, 1, 2]
    assert {g[1] for g in got} == {"caller"}
    assert len({g[2] for g in got}) == 3


def test_the_first_failure_in_order_is_raised_after_every_call_finished() -> None:
    finished: list[int] = []

    def one(i: int) -> int:
        time.sleep(0.05 if i == 2 else 0)
        finished.append(i)
        if i in (1, 2):
            raise ValueError(f"stage {i}")
        return i

    with pytest.raises(ValueError, match="stage 1"):
        in_threads([lambda i=i: one(i) for i in range(3)])
    assert sorted(finished) == [0, 1, 2]


def _verdict(control: str, target: str, seen: list[str], session: str) -> Result:
    with probe(control, target) as p:
        seen.append(session)
        time.sleep(0.02)
        p.passed(observed=session)
    return p.result


def test_a_session_alongside_the_ordered_ones_keeps_each_result_with_its_control() -> None:
    seen: list[str] = []
    controls = [
        BY_ID["bootstrap.web-login"],
        BY_ID["bootstrap.install.admin-password"],
        BY_ID["bootstrap.install.statistics"],
    ]
    sessions = ["web", "console", "later"]
    plan: list[Planned[Any]] = []
    for control, session in zip(controls, sessions, strict=True):
        proof: Proof[Any] = Proof(verifier=lambda c, t, s=session: _verdict(c, t, seen, s), session=session)
        plan.append(Planned(Binding(control, None, (proof,)), Target(control.target, f"node-{session}")))

    def runner(jobs: list[Any]) -> list[Result]:
        return [job.run(None) for job in jobs]

    results = run_sessions(
        plan,
        {"web": runner, "console": runner, "later": runner},
        lambda rs: rs[0],
        concurrent=False,
        alongside=frozenset({"console"}),
    )
    assert [(r.control, r.target, r.observed) for r in results] == [
        (c.id, f"node-{s}", s) for c, s in zip(controls, sessions, strict=True)
    ]
    assert seen.index("web") < seen.index("later")  # the ordered sessions stay in order
