"""Build results for report and waiver tests."""

from __future__ import annotations

from datetime import UTC, datetime

from securemode.results import Result, Status

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def result(control: str, target: str, status: Status, message: str = "", observed: object = None,
           transcript: list[str] | None = None) -> Result:
    return Result(control=control, target=target, status=status, message=message, observed=observed,  # type: ignore[arg-type]
                  expected=None, transcript=transcript or [], started_at=T0, duration_s=0.01)
