"""A user-facing problem with the input: which field, what is wrong, how to fix it (principle 8)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Problem(BaseModel):
    """One problem, rendered as ``field: message. Fix: fix``."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str
    fix: str
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.field}: {self.message}.{fix}"


class InputError(Exception):
    """Bad user input; carries every problem found so they can be fixed in one go."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        errors = [p for p in self.problems if p.severity is Severity.ERROR]
        lines = [f"{self.source}: {len(errors)} problem(s)"]
        lines += [f"  - {p.render()}" for p in errors]
        return "\n".join(lines)
