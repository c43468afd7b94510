"""Where reports live and the HTTP address under which the report server publishes them.

`securemode serve` starts the report server and puts its base address in ``SECUREMODE_REPORTS_URL``;
flow runs read it here to link their reports from the Prefect UI, without depending on the server.
"""

from __future__ import annotations

import os
from pathlib import Path

from securemode.paths import state_dir

URL_ENV = "SECUREMODE_REPORTS_URL"
SERVED = ("reports", "reverify")


def reports_root() -> Path:
    """Where runs started from the UI or a schedule write their reports, one folder per run."""
    path = state_dir() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_url(directory: Path, name: str) -> str | None:
    """The HTTP address of ``directory/name`` when the report server publishes that folder, else None."""
    base = os.environ.get(URL_ENV)
    if not base:
        return None
    try:
        relative = directory.resolve().relative_to(state_dir())
    except ValueError:
        return None
    if not relative.parts or relative.parts[0] not in SERVED:
        return None
    return f"{base.rstrip('/')}/{relative.as_posix()}/{name}"
