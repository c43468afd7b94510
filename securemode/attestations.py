"""Recorded attestations of MANUAL controls, kept across runs so a person attests once per target."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from pydantic import TypeAdapter

from securemode.paths import state_dir
from securemode.results import Attestation

_ADAPTER = TypeAdapter(list[Attestation])
_WRITING = threading.Lock()  # stages verified at once record attestations of the same site


def _path(site_name: str) -> Path:
    folder = state_dir() / "attestations"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{site_name}.json"


def load(site_name: str) -> list[Attestation]:
    path = _path(site_name)
    if not path.exists():
        return []
    return _ADAPTER.validate_json(path.read_bytes())


def record(site_name: str, attestation: Attestation) -> None:
    """Add (or replace) the attestation for its control and target."""
    with _WRITING:
        kept = [a for a in load(site_name) if (a.control, a.target) != (attestation.control, attestation.target)]
        kept.append(attestation)
        _replace(_path(site_name), json.dumps(_ADAPTER.dump_python(kept, mode="json"), indent=2))


def forget(site_name: str, control: str, target: str) -> None:
    """Drop the attestation for a control and target (one that must be given anew, like a failover's licence)."""
    with _WRITING:
        kept = [a for a in load(site_name) if (a.control, a.target) != (control, target)]
        _replace(_path(site_name), json.dumps(_ADAPTER.dump_python(kept, mode="json"), indent=2))


def _replace(path: Path, text: str) -> None:
    """Write through a temporary file, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find(attestations: list[Attestation], control: str, target: str) -> Attestation | None:
    return next((a for a in attestations if a.control == control and a.target == target), None)
