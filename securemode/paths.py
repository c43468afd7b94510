"""Where securemode keeps its state (one project-local folder, never the user's home) and its build cache."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "SECUREMODE_STATE_DIR"
CACHE_ENV = "SECUREMODE_CACHE_DIR"


def state_dir() -> Path:
    """``$SECUREMODE_STATE_DIR``, else ``./var`` of the current directory; created on first use."""
    path = Path(os.environ.get(STATE_ENV) or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def prefect_home() -> Path:
    path = state_dir() / "prefect"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_cache(kind: str, fallback: Path) -> Path:
    """The machine's build cache for ``kind``, shared by every checkout so that a clean one (as CI makes) finds
    what another built from the same inputs; its entries are named by a hash of those inputs and never change
    (infra/build_cache.sh is the same cache for the shell scripts). ``$SECUREMODE_CACHE_DIR``, else
    ``~/.cache/securemode``; ``fallback`` (a folder of the checkout) when the variable is ``off``."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        path = fallback
    else:
        home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = (Path(chosen) if chosen else home_cache / "securemode") / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
