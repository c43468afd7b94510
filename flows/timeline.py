"""A timed list of an operation's steps (a failover's, a rebuild's), for its report and its RTO."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect.logging import get_run_logger

from securemode.reports.model import TimelineStep


@dataclass
class Timeline:
    steps: list[TimelineStep] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, note: str = "") -> Iterator[list[str]]:
        """Time the block as step ``name``; the block may append notes (a step that raises is kept, marked)."""
        notes = [note] if note else []
        started = datetime.now(UTC)
        get_run_logger().info("%s: started", name)
        outcome = ""
        try:
            yield notes
        except BaseException as exc:
            outcome = f"stopped: {type(exc).__name__}"
            raise
        finally:
            ended = datetime.now(UTC)
            self.steps.append(
                TimelineStep(
                    step=name,
                    started_at=started,
                    ended_at=ended,
                    note="; ".join([*notes, *([outcome] if outcome else [])]),
                )
            )
            get_run_logger().info("%s: %s after %.1f s", name, outcome or "done", (ended - started).total_seconds())
