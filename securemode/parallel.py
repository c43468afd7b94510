"""Run independent probes concurrently, keeping their order in the output.

Verifiers spend their time waiting on the network (handshakes, SNMP and NTP round trips, timeouts of
negative probes), so a thread pool turns N nodes' worth of waiting into roughly one. The worker count
comes from ``SECUREMODE_PROBE_WORKERS`` (1 = one after another, the benchmark's baseline).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from securemode.results import Result

DEFAULT_WORKERS = 32
WORKERS_ENV = "SECUREMODE_PROBE_WORKERS"

Probe = Callable[[], Result | Sequence[Result]]


def probe_workers() -> int:
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS)))
    except ValueError:
        return DEFAULT_WORKERS


def run_probes(probes: Iterable[Probe], workers: int | None = None) -> list[Result]:
    """Call every probe (each returns a Result or a list of them); results come back in probe order."""
    calls = list(probes)
    count = min(workers or probe_workers(), max(1, len(calls)))
    if count == 1:
        outputs = [call() for call in calls]
    else:
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="probe") as pool:
            outputs = list(pool.map(lambda call: call(), calls))
    results: list[Result] = []
    for output in outputs:
        if isinstance(output, Result):
            results.append(output)
        else:
            results.extend(output)
    return results
