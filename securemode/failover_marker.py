"""The "active failover" marker: while the fallback carries the service, its VMs being on is the plan, not drift.

A failover writes it (who declared it, why, when, how the primary was isolated) under the state folder, one
file per primary site; the contingency stage and ``reverify`` read it, so ``contingency.powered-off`` is
NOT_APPLICABLE (naming the failover) and the stage's power-off step leaves the fallback running. The
failback (returning the service to the primary) clears it with :func:`clear_failover`.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from securemode.paths import state_dir
from securemode.site_loader import LoadedSite


class FailoverMarker(BaseModel):
    """One standing failover of a site's service to its contingency deployment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str
    declared_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    since: datetime
    isolation: str

    def describe(self) -> str:
        return f"failover active since {self.since:%Y-%m-%d %H:%M:%S} UTC by {self.declared_by} ({self.reason})"


def _site_name(loaded: LoadedSite) -> str:
    """The primary's name: a marker is about the primary's service, whichever side asks."""
    return (loaded.primary or loaded).site.name


def _path(loaded: LoadedSite) -> Path:
    folder = state_dir() / "failover"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{re.sub(r'[^A-Za-z0-9._-]', '_', _site_name(loaded))}.json"


def mark_failover(
    loaded: LoadedSite, declared_by: str, reason: str, isolation: str, since: datetime | None = None
) -> FailoverMarker:
    """Record that the site's service now runs on its fallback (replacing an earlier marker)."""
    marker = FailoverMarker(
        site=_site_name(loaded),
        declared_by=declared_by,
        reason=reason,
        since=since or datetime.now(UTC),
        isolation=isolation,
    )
    path = _path(loaded)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(marker.model_dump_json(indent=2))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return marker


def active_failover(loaded: LoadedSite) -> FailoverMarker | None:
    """The standing failover of the site (primary or fallback side), or None."""
    try:
        return FailoverMarker.model_validate_json(_path(loaded).read_bytes())
    except FileNotFoundError:
        return None


def clear_failover(loaded: LoadedSite) -> bool:
    """End the standing failover (the failback did its work); True when there was one."""
    path = _path(loaded)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed
