"""Where the vcsim build puts its binary and where running simulators keep their state."""

from __future__ import annotations

import os
from pathlib import Path

from securemode.paths import state_dir

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
BUILD_SCRIPT = PACKAGE_DIR / "build.sh"
# $SECUREMODE_VCSIM_BUILD_DIR: a private build (build.sh honours it too), so a change to the simulator can be
# tested without replacing the binary other checkouts sharing .build run.
BUILD_DIR = Path(os.environ.get("SECUREMODE_VCSIM_BUILD_DIR") or REPO_ROOT / ".build" / "vcsim")
BINARY = BUILD_DIR / "bin" / "vcsim-ext"
DEFAULT_OPTIONS_SEED = PACKAGE_DIR / "esxi-options.json"


def state_root() -> Path:
    """Where running simulators keep their state: under securemode's state folder ($SECUREMODE_STATE_DIR)."""
    return state_dir() / "vcsim"
