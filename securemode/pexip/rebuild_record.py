"""A rebuild's progress, kept in the site's state folder so a rebuild killed at any step resumes there.

``<state>/pexip/<site>/rebuild.json`` (written atomically, 0600) holds the rebuild under way: its id (the UTC
stamp it started), reason, who declared it, the VMs it rebuilds, the steps finished (with when), the
quarantined VMs' new names, salted digests of every credential's value before the rotation (never a value),
and the archive folder of the old deployment's engine state. A finished rebuild moves to
``rebuilds/<id>.json``; the next one starts afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from securemode.pexip import state
from securemode.site_loader import LoadedSite

FILE = "rebuild.json"
DONE_FOLDER = "rebuilds"
_ITERATIONS = 60_000


def salted_digest(value: str, salt: bytes | None = None) -> dict[str, str]:
    salt = salt or secrets.token_bytes(16)
    return {"salt": salt.hex(), "digest": hashlib.pbkdf2_hmac("sha256", value.encode(), salt, _ITERATIONS).hex()}


def same_value(entry: dict[str, str], value: str) -> bool:
    """True when ``value`` is the value ``entry`` (from :func:`salted_digest`) was made of."""
    again = salted_digest(value, bytes.fromhex(entry["salt"]))
    return hmac.compare_digest(again["digest"], entry["digest"])


def path(loaded: LoadedSite) -> Path:
    return state.site_dir(loaded) / FILE


@dataclass
class RebuildRecord:
    """The rebuild under way (see the module docstring); ``save`` after every change."""

    loaded: LoadedSite
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def nodes(self) -> list[str]:
        return [str(n) for n in self.data["nodes"]]

    def done(self, step: str) -> bool:
        return step in self.data["steps"]

    def finish(self, step: str, **facts: Any) -> None:
        self.data["steps"][step] = datetime.now(UTC).isoformat(timespec="seconds")
        self.data.update(facts)
        self.save()

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def save(self) -> None:
        state.write_json(path(self.loaded), self.data)

    def close(self) -> Path:
        """Move the finished rebuild under ``rebuilds/``; the next rebuild starts afresh."""
        target = state.subdir(self.loaded, DONE_FOLDER) / f"{self.id}.json"
        state.write_json(target, self.data)
        path(self.loaded).unlink(missing_ok=True)
        return target


def current(loaded: LoadedSite) -> RebuildRecord | None:
    """The rebuild under way, or None."""
    data = state.read_json(path(loaded))
    return RebuildRecord(loaded, data) if data else None


def start(loaded: LoadedSite, reason: str, declared_by: str, nodes: list[str]) -> RebuildRecord:
    """Begin a rebuild (after :func:`current` found none)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = RebuildRecord(
        loaded,
        {
            "id": stamp,
            "reason": reason,
            "declared_by": declared_by,
            "nodes": nodes,
            "steps": {},
            "quarantined": {},
            "before": {},
        },
    )
    record.save()
    return record


def finished(loaded: LoadedSite) -> list[dict[str, Any]]:
    """Every finished rebuild's record, oldest first."""
    folder = state.site_dir(loaded) / DONE_FOLDER
    return [state.read_json(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
