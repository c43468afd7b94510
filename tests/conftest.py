"""Shared test fixtures: repository paths and an isolated state folder for every test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO.parent / "shared" / "seed" / "pexip-infinity-secure-mode-guide.txt"


@pytest.fixture(scope="session", autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep every test's state (Prefect home, lab files) out of the developer's ./var."""
    os.environ.setdefault("SECUREMODE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
