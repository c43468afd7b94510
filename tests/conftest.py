"""Shared test set-up: repository paths, and an isolated state folder set before Prefect is imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO.parent / "shared" / "seed" / "pexip-infinity-secure-mode-guide.txt"

# Before any test module imports Prefect: keep every test's state (Prefect home, lab files, attestations)
# out of the developer's ./var and out of ~/.prefect.
if "SECUREMODE_STATE_DIR" not in os.environ:
    os.environ["SECUREMODE_STATE_DIR"] = tempfile.mkdtemp(prefix="securemode-tests-")

from securemode.prefect_env import apply_prefect_settings  # noqa: E402 - must follow the state dir

apply_prefect_settings()
