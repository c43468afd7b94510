"""The report envelope: every result of a run plus who approved what; its JSON Schema is committed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from securemode import __version__
from securemode.catalogue import BY_ID, CONTROLS, ControlSeverity, StigRule
from securemode.results import Attestation, Result, Status

REPORT_FORMAT_VERSION = "1.0"


class Approval(BaseModel):
    """A recorded approval of a gated step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    who: str
    note: str = ""
    at: datetime


class ControlInfo(BaseModel):
    """What an assessor needs to know about a checked control, copied from the catalogue into the report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    stage: str
    section: str = Field(description="Guide section, titled as printed in the guide.")
    severity: ControlSeverity
    stig: StigRule | None = None
    nist: list[str] = Field(description="NIST SP 800-53 rev5 controls.")
    bound: bool = Field(default=False, description="Whether the run's stages bind the control to its fix and "
                        "proofs; when False, fix and verified_by are unknown.")
    fix: str | None = Field(default=None, description="The step that enforces it (module.function); None when "
                            "the control is verify-only.")
    verified_by: list[str] = Field(default_factory=list, description="The verifiers that prove it (module.function).")


class Coverage(BaseModel):
    """How much of the catalogue this run checked: a verdict is only as wide as its coverage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalogue: int = Field(description="Controls in the catalogue.")
    checked: int = Field(description="Catalogue controls with at least one result in this run.")
    not_checked: list[str] = Field(description="Catalogue controls this run did not check.")


class TimelineStep(BaseModel):
    """One step of an operation (a failover, a rebuild), timed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    started_at: datetime
    ended_at: datetime
    note: str = ""

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class Operation(BaseModel):
    """An event-driven operation's record: why, who, each step's timing and the time to recovery."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="failover or rebuild.")
    reason: str
    declared_by: str
    started_at: datetime = Field(description="When the event was declared (or the run started, from the CLI).")
    recovered_at: datetime | None = Field(default=None, description="When the service was proven again.")
    recovery_s: float | None = Field(default=None, description="started_at to recovered_at (a failover's RTO).")
    timeline: list[TimelineStep] = Field(default_factory=list)


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
    controls: dict[str, ControlInfo] = Field(default_factory=dict, description="Catalogue facts per checked control "
                                             "(filled from the catalogue when absent).")
    coverage: Coverage | None = Field(default=None, description="Filled from the catalogue when absent.")
    operation: Operation | None = Field(default=None, description="Set by a failover or rebuild: its timeline.")

    @model_validator(mode="after")
    def _from_catalogue(self) -> Report:
        checked = {r.control for r in self.results}
        if not self.controls:
            self.controls = {cid: control_info(cid) for cid in dict.fromkeys(r.control for r in self.results)
                             if cid in BY_ID}
        if self.coverage is None:
            self.coverage = Coverage(catalogue=len(CONTROLS), checked=sum(1 for c in CONTROLS if c.id in checked),
                                     not_checked=[c.id for c in CONTROLS if c.id not in checked])
        return self

    def counts(self) -> dict[Status, int]:
        """How many results have each status (every status present, zero included)."""
        found = Counter(r.status for r in self.results)
        return {status: found.get(status, 0) for status in Status}

    def compliant(self) -> bool:
        """True when something was checked, nothing failed or errored and every MANUAL control is attested."""
        return bool(self.results) and all(
            r.status in {Status.PASS, Status.WAIVED, Status.NOT_APPLICABLE}
            or (r.status is Status.MANUAL and r.attestation is not None)
            for r in self.results
        )

    def info(self, control_id: str) -> ControlInfo:
        """The catalogue facts of a control in this report (a control unknown to the catalogue gets a stub)."""
        if control_id in self.controls:
            return self.controls[control_id]
        if control_id in BY_ID:
            return control_info(control_id)
        return ControlInfo(title=control_id, stage=control_id.split(".", 1)[0], section="(not in the catalogue)",
                           severity=ControlSeverity.MEDIUM, nist=[])

    def verdict(self) -> str:
        """The headline: a run that checked nothing, or only part of the catalogue, says so."""
        if not self.results:
            return "NOTHING CHECKED"
        if not self.compliant():
            return "NOT COMPLIANT"
        if self.coverage is not None and self.coverage.not_checked:
            return "COMPLIANT FOR THE STAGES RUN"
        return "COMPLIANT"


def control_info(control_id: str, fix: str | None = None, verified_by: Sequence[str] | None = None) -> ControlInfo:
    """A control's catalogue facts; ``verified_by`` given (even empty) means the stages bind it."""
    control = BY_ID[control_id]
    return ControlInfo(title=control.title, stage=control.stage.value, section=control.section,
                       severity=control.severity, stig=control.stig, nist=list(control.nist),
                       bound=verified_by is not None, fix=fix, verified_by=list(verified_by or ()))
