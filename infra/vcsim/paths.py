"""Where the vcsim build puts its binary and where running simulators keep their state."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
BUILD_SCRIPT = PACKAGE_DIR / "build.sh"
BINARY = REPO_ROOT / ".build" / "vcsim" / "bin" / "vcsim-ext"
DEFAULT_OPTIONS_SEED = PACKAGE_DIR / "esxi-options.json"
STATE_ROOT = REPO_ROOT / "var" / "vcsim"
