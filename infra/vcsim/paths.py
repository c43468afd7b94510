"""Where the vcsim build puts its binary and where running simulators keep their state."""

from __future__ import annotations

from pathlib import Path

from securemode.paths import state_dir

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
BUILD_SCRIPT = PACKAGE_DIR / "build.sh"
BINARY = REPO_ROOT / ".build" / "vcsim" / "bin" / "vcsim-ext"
DEFAULT_OPTIONS_SEED = PACKAGE_DIR / "esxi-options.json"


def state_root() -> Path:
    """Where running simulators keep their state: under securemode's state folder ($SECUREMODE_STATE_DIR)."""
    return state_dir() / "vcsim"
