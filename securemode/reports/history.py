"""The reverify history: one report.json per run under the site's history folder, oldest first."""

from __future__ import annotations

from pathlib import Path

from securemode.reports.json_report import read_report
from securemode.reports.model import Report


def load_history(folder: Path, limit: int = 60) -> list[Report]:
    """The last ``limit`` runs' reports (run folders are UTC stamps, so names sort by time); 'last' is a copy."""
    if not folder.is_dir():
        return []
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "last" and (p / "report.json").exists())
    return [read_report(run / "report.json") for run in runs[-limit:]]
