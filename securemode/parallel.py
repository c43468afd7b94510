"""Run independent probes (or other calls, under a limit) concurrently, keeping their order in the output.

Verifiers spend their time waiting on the network (handshakes, SNMP and NTP round trips, timeouts of
negative probes), so a thread pool turns N nodes' worth of waiting into roughly one. The worker count
comes from ``SECUREMODE_PROBE_WORKERS`` (1 = one after another, the benchmark's baseline).
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from securemode.results import Result

log = logging.getLogger("securemode.parallel")
T = TypeVar("T")
DEFAULT_WORKERS = 32
WORKERS_ENV = "SECUREMODE_PROBE_WORKERS"

Probe = Callable[[], Result | Sequence[Result]]


def probe_workers() -> int:
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS)))
    except ValueError:
        return DEFAULT_WORKERS


def run_probes(probes: Iterable[Probe], workers: int | None = None, waiting: Sequence[bool] = ()) -> list[Result]:
    """Call every probe (each returns a Result or a list of them); results come back in probe order.

    ``waiting`` flags the probes that mostly wait out a timeout: they are started first, so that their
    waiting overlaps the other probes' work instead of following it when there are more probes than workers.
    """
    calls = list(probes)
    count = min(workers or probe_workers(), max(1, len(calls)))
    if count == 1:
        outputs = [call() for call in calls]
    else:
        flags = list(waiting) + [False] * (len(calls) - len(waiting))
        order = sorted(range(len(calls)), key=lambda i: not flags[i])
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="probe") as pool:
            futures = {i: pool.submit(calls[i]) for i in order}
            outputs = [futures[i].result() for i in range(len(calls))]
    results: list[Result] = []
    for output in outputs:
        if isinstance(output, Result):
            results.append(output)
        else:
            results.extend(output)
    return results


def run_bounded(calls: Sequence[Callable[[], T]], limit: int, name: str = "worker") -> list[T]:
    """Call every function with at most ``limit`` running at once; results in call order. Every call runs
    to its end even when another fails; then the first failure is raised (the others are logged). Each call
    runs in a copy of the caller's context, so what it logs is attributed to the caller's run."""
    if not calls:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(limit, len(calls))), thread_name_prefix=name) as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
    failures = [exc for f in futures if (exc := f.exception()) is not None]
    for extra in failures[1:]:
        log.error("%s: another call failed too: %s: %s", name, type(extra).__name__, extra)
    if failures:
        raise failures[0]
    return [f.result() for f in futures]
