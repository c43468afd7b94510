"""Bounded concurrency for deploys: never more than the limit at once, results in call order, every call
finishes even when one fails, and the failure is raised afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from securemode.parallel import run_bounded


def _tracked(limit: int, count: int) -> tuple[list[Callable[[], int]], list[int]]:
    lock = threading.Lock()
    running = [0]
    peak: list[int] = [0]

    def call(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return i

    return [lambda i=i: call(i) for i in range(count)], peak  # type: ignore[misc]


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_at_most_the_limit_run_at_once_and_results_keep_their_order(limit: int) -> None:
    calls, peak = _tracked(limit, 6)
    assert run_bounded(calls, limit) == list(range(6))
    assert peak[0] == limit


def test_a_failure_is_raised_after_every_call_finished() -> None:
    done: list[int] = []

    def fail() -> int:
        raise ValueError("import of conf02 failed")

    def ok(i: int) -> int:
        time.sleep(0.02)
        done.append(i)
        return i

    with pytest.raises(ValueError, match="conf02"):
        run_bounded([lambda: ok(1), fail, lambda: ok(3)], 3)
    assert sorted(done) == [1, 3]
    assert run_bounded([], 2) == []
