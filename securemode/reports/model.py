"""The report envelope: every result of a run plus who approved what; its JSON Schema is committed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from securemode import __version__
from securemode.results import Attestation, Result, Status

REPORT_FORMAT_VERSION = "1.0"


class Approval(BaseModel):
    """A recorded approval of a gated step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    who: str
    note: str = ""
    at: datetime


class Report(BaseModel):
    """A run's results (secrets already redacted), in pipeline order."""

    model_config = ConfigDict(extra="forbid")

    format_version: str = Field(default=REPORT_FORMAT_VERSION, description="Version of this report format.")
    tool: str = "securemode"
    tool_version: str = __version__
    site: str
    generated_at: datetime
    stages: list[str]
    results: list[Result]
    approvals: list[Approval] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)

    def counts(self) -> dict[Status, int]:
        """How many results have each status (every status present, zero included)."""
        found = Counter(r.status for r in self.results)
        return {status: found.get(status, 0) for status in Status}

    def compliant(self) -> bool:
        """True when nothing failed, nothing errored and every MANUAL control is attested."""
        return all(
            r.status in {Status.PASS, Status.WAIVED, Status.NOT_APPLICABLE}
            or (r.status is Status.MANUAL and r.attestation is not None)
            for r in self.results
        )
