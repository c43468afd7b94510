"""Where securemode keeps its state: one project-local folder, never the user's home."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "SECUREMODE_STATE_DIR"


def state_dir() -> Path:
    """``$SECUREMODE_STATE_DIR``, else ``./var`` of the current directory; created on first use."""
    path = Path(os.environ.get(STATE_ENV) or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def prefect_home() -> Path:
    path = state_dir() / "prefect"
    path.mkdir(parents=True, exist_ok=True)
    return path
