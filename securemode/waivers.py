"""Waivers: accepted deviations with a reason, an approver and an expiry; expired ones no longer apply."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from securemode.problems import InputError, Problem
from securemode.results import Result, Status, Waiver
from securemode.site_yaml import DocumentError, decode, load_document

WAIVABLE = frozenset({Status.FAIL, Status.ERROR, Status.MANUAL})


class WaiversFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waivers: list[Waiver]

    @field_validator("waivers")
    @classmethod
    def _aware(cls, waivers: list[Waiver]) -> list[Waiver]:
        for w in waivers:
            if w.expires.tzinfo is None:
                raise ValueError(f"waiver for {w.control}: expires must carry a timezone (e.g. 2027-01-31T00:00:00Z)")
        return waivers


def load_waivers(path: Path) -> list[Waiver]:
    """Read a waivers file; raise :class:`InputError` naming the field on any problem.

    Parsed like the site file (:mod:`securemode.site_yaml`): UTF-8 checked with the byte offset, alias
    bombs and loops refused before validation walks the document."""
    try:
        document = load_document(decode(path.read_bytes(), what="waivers file")) or {"waivers": []}
        return WaiversFile.model_validate(document).waivers
    except OSError as exc:
        raise InputError(str(path), [Problem(field="(file)", message=f"cannot read: {exc.strerror}",
                                             fix="check waivers_file in the site file")]) from None
    except DocumentError as exc:
        raise InputError(str(path), [exc.problem]) from None
    except ValidationError as exc:
        problems = [Problem(field=".".join(str(p) for p in e["loc"]), message=e["msg"], fix="correct the waiver")
                    for e in exc.errors()]
        raise InputError(str(path), problems) from None


def active_waiver(result: Result, waivers: Iterable[Waiver], now: datetime) -> Waiver | None:
    """The first unexpired waiver matching the result's control and target."""
    for waiver in waivers:
        if waiver.control == result.control and fnmatch.fnmatchcase(result.target, waiver.target) \
                and waiver.expires > now:
            return waiver
    return None


def apply_waivers(results: Iterable[Result], waivers: list[Waiver], now: datetime) -> list[Result]:
    """Mark FAIL/ERROR/MANUAL results covered by an active waiver as WAIVED; the evidence stays."""
    out = []
    for result in results:
        waiver = active_waiver(result, waivers, now) if result.status in WAIVABLE else None
        if waiver is None:
            out.append(result)
        else:
            note = f"waived ({result.status.value}): {waiver.reason} — approved by {waiver.approver}, " \
                   f"expires {waiver.expires.isoformat()}"
            out.append(result.model_copy(update={"status": Status.WAIVED, "waiver": waiver,
                                                 "message": f"{note}. Observed: {result.message}"}))
    return out
