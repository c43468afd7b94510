"""What the last refresh of the contingency deployment proved, kept for when the fallback is off.

The guide keeps the fallback powered off, so between refreshes nothing can be read from it. The refresh
exports both deployments' configuration while the fallback is up and records the fallback's export (no
secrets: the export drops them) with the primary's fingerprint at that moment. ``reverify`` then diffs
the primary, read live, against that record: a change on the primary since shows as a parity FAIL
naming the field, without powering anything on. The record lives under the primary's state folder (0600).

A refresh can also be asked for (the ``contingency-refresh`` flow, or a failed refresh): the request is a
file that the next successful refresh removes, so a run that dies half-way refreshes again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from securemode.pexip.state import site_dir, write_private
from securemode.site_loader import LoadedSite

RECORD, REQUEST = "contingency-parity.json", "contingency-refresh-requested"


class ParityRecord(BaseModel):
    proven_at: datetime
    primary_fingerprint: str
    fallback_export: dict[str, Any]
    disallowed: list[str]  # the differences outside the guide's exceptions, as rendered then ([] = parity)

    def age_hours(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.proven_at).total_seconds() / 3600


def _path(primary: LoadedSite, name: str) -> Path:
    return site_dir(primary) / name


def load(primary: LoadedSite) -> ParityRecord | None:
    """The last refresh's record, or None when the fallback was never proven (or the record is unreadable)."""
    try:
        return ParityRecord.model_validate_json(_path(primary, RECORD).read_bytes())
    except (OSError, ValueError):
        return None


def save(primary: LoadedSite, record: ParityRecord) -> None:
    """Keep the record and end any refresh request: the fallback was just refreshed."""
    write_private(_path(primary, RECORD), record.model_dump_json().encode())
    _path(primary, REQUEST).unlink(missing_ok=True)


def request_refresh(primary: LoadedSite, reason: str) -> None:
    write_private(_path(primary, REQUEST), json.dumps({"reason": reason, "at": datetime.now(UTC).isoformat()}).encode())


def requested(primary: LoadedSite) -> str | None:
    """Why a refresh was asked for and not yet done, or None."""
    try:
        return str(json.loads(_path(primary, REQUEST).read_bytes())["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
