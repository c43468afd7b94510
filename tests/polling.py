"""Wait for a condition instead of sleeping a fixed time: returns as soon as it holds, fails clearly when it
never does (a fixed sleep is either too short on a loaded machine or wasted time on an idle one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None], timeout: float, interval: float = 0.2, what: str = "the condition"
) -> T:
    """Call ``predicate`` until it returns a truthy value and return that value; after ``timeout`` seconds
    fail with ``what`` and the last value seen. The predicate is always called at least once, and once more
    at the deadline, so a slow predicate still gets its last chance."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what} did not hold within {timeout:g} s; last seen: {value!r}")
        time.sleep(min(interval, remaining))
