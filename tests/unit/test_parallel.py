"""Probes run concurrently but come back in order; one worker means one after another."""

from __future__ import annotations

import threading
import time

from securemode.parallel import run_probes
from securemode.results import Result, probe


def _probe(i: int, seen: set[str]) -> Result:
    with probe("x.y", f"node{i}") as p:
        seen.add(threading.current_thread().name)
        time.sleep(0.05)
        p.passed(observed=i)
    return p.result


def test_order_is_kept_and_lists_are_flattened() -> None:
    seen: set[str] = set()
    calls = [lambda i=i: _probe(i, seen) for i in range(8)]
    calls.append(lambda: [_probe(8, seen), _probe(9, seen)])
    results = run_probes(calls, workers=8)
    assert [r.observed for r in results] == list(range(10))
    assert len(seen) > 1


def test_one_worker_runs_them_in_the_calling_thread() -> None:
    seen: set[str] = set()
    run_probes([lambda i=i: _probe(i, seen) for i in range(3)], workers=1)
    assert seen == {threading.current_thread().name}
