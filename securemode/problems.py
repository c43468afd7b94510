"""A user-facing problem with the input: which field, what is wrong, how to fix it (principle 8)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

MAX_LISTED = 12  # up to this many valid ids, a problem lists them all


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


def unknown_ids(option: str, given: Sequence[str], valid: Sequence[str], what: str) -> list[Problem]:
    """One problem per id of ``given`` not in ``valid``, naming the closest valid ones."""
    known = set(valid)
    problems = []
    for name in dict.fromkeys(given):
        if name in known:
            continue
        close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)
        if close:
            fix = f"did you mean {' or '.join(close)}?"
        elif len(valid) <= MAX_LISTED:
            fix = f"use one of {', '.join(valid)}"
        else:
            fix = "run `securemode controls` to see the control ids"
        problems.append(Problem(field=option, message=f"'{name}' is not {what}, so it would be silently ignored",
                                fix=fix))
    return problems
