"""Recorded attestations of MANUAL controls, kept across runs so a person attests once per target."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from securemode.paths import state_dir
from securemode.results import Attestation

_ADAPTER = TypeAdapter(list[Attestation])


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
    kept = [a for a in load(site_name) if (a.control, a.target) != (attestation.control, attestation.target)]
    kept.append(attestation)
    _path(site_name).write_text(json.dumps(_ADAPTER.dump_python(kept, mode="json"), indent=2), encoding="utf-8")


def find(attestations: list[Attestation], control: str, target: str) -> Attestation | None:
    return next((a for a in attestations if a.control == control and a.target == target), None)
