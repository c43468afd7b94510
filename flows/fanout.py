"""Run independent stage flows at once: each in its own thread with a copy of the caller's context.

Prefect finds the parent flow run in a context variable, so a copied context makes every call a
subflow of the caller, as when called in turn. Used where no stage builds on another's changes
(reverify, and pipeline runs that plan or only verify).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def in_threads(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Call each at once; results in call order. The first call's exception (in order) is raised after
    every call has finished, so no stage is left running behind the caller's back."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="stage") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]
