"""The result model: what a verifier observed, kept honest (design principle 4).

ERROR means "could not check" and is never counted as a pass or a fail; MANUAL needs a human
attestation; WAIVED carries the waiver that applied.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from securemode.redact import redact

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class Status(StrEnum):
    """The outcome of checking one control on one target."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    MANUAL = "MANUAL"
    WAIVED = "WAIVED"


class Waiver(BaseModel):
    """An accepted deviation: who approved it, why, and until when (UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str = Field(description="Control id the waiver applies to.")
    target: str = Field(default="*", description="fnmatch pattern over target names.")
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: datetime = Field(description="Expiry, timezone-aware (UTC).")


class Attestation(BaseModel):
    """A recorded human statement that a MANUAL control holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str
    target: str
    who: str = Field(min_length=1)
    note: str = ""
    at: datetime


class Result(BaseModel):
    """One control checked on one target, with its evidence."""

    model_config = ConfigDict(extra="forbid")

    control: str
    target: str
    status: Status
    message: str = ""
    observed: JsonValue = None
    expected: JsonValue = None
    transcript: list[str] = Field(default_factory=list)
    started_at: datetime
    duration_s: float = 0.0
    waiver: Waiver | None = None
    attestation: Attestation | None = None

    def redacted(self) -> Result:
        """Copy with every registered secret scrubbed from the free-text fields."""
        return self.model_copy(
            update={
                "message": redact(self.message),
                "transcript": [redact(line) for line in self.transcript],
                "observed": _redact_json(self.observed),
            }
        )


def _redact_json(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_json(v) for k, v in value.items()}
    return value


@dataclass
class Probe:
    """Collects a probe's transcript and verdict while it runs (see :func:`probe`)."""

    control: str
    target: str
    expected: JsonValue = None
    transcript: list[str] = field(default_factory=list)
    status: Status | None = None
    message: str = ""
    observed: JsonValue = None
    outcome: Result | None = None

    @property
    def result(self) -> Result:
        """The finished result; only valid after the ``with probe(...)`` block."""
        if self.outcome is None:
            raise RuntimeError("probe still running")
        return self.outcome

    def log(self, line: str) -> None:
        """Add one line to the transcript (secrets are scrubbed)."""
        self.transcript.append(redact(line))

    def passed(self, observed: JsonValue, message: str = "") -> None:
        self._verdict(Status.PASS, observed, message)

    def failed(self, observed: JsonValue, message: str) -> None:
        self._verdict(Status.FAIL, observed, message)

    def error(self, message: str, observed: JsonValue = None) -> None:
        self._verdict(Status.ERROR, observed, message)

    def not_applicable(self, message: str) -> None:
        self._verdict(Status.NOT_APPLICABLE, None, message)

    def manual(self, message: str) -> None:
        self._verdict(Status.MANUAL, None, message)

    def check(self, ok: bool, observed: JsonValue, message: str) -> None:
        """PASS when ``ok``, else FAIL with ``message``."""
        if ok:
            self.passed(observed)
        else:
            self.failed(observed, message)

    def _verdict(self, status: Status, observed: JsonValue, message: str) -> None:
        self.status = status
        self.observed = observed
        self.message = redact(message)


@contextmanager
def probe(control: str, target: str, expected: JsonValue = None) -> Iterator[Probe]:
    """Time a probe; an unexpected exception becomes ERROR, never a crash or a silent pass.

    Usage::

        with probe("platform.snmp.v3", node.name, expected="authPriv GET works") as p:
            p.log("GET sysName.0")
            p.check(value == want, observed=value, message="sysName differs")
        result = p.result  # set on exit
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    p = Probe(control=control, target=target, expected=expected)
    try:
        yield p
    except Exception as exc:
        p.error(f"{type(exc).__name__}: {exc}")
    if p.status is None:
        p.error("probe finished without a verdict")
    p.outcome = Result(
        control=control,
        target=target,
        status=p.status or Status.ERROR,
        message=p.message,
        observed=_redact_json(p.observed),
        expected=expected,
        transcript=list(p.transcript),
        started_at=started,
        duration_s=round(time.perf_counter() - t0, 6),
    )
