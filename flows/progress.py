"""A listener the CLI installs to show progress per stage; flows call it if present (same process)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol

from securemode.outcome import StageOutcome


class ProgressListener(Protocol):
    def stage_started(self, stage: str) -> None: ...

    def step_finished(self, stage: str, step: str, changes: int, applied: int | None = None) -> None: ...

    def stage_finished(self, outcome: StageOutcome) -> None: ...


LISTENER: ContextVar[ProgressListener | None] = ContextVar("securemode_progress", default=None)


def listener() -> ProgressListener | None:
    return LISTENER.get()
