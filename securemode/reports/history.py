"""The reverify history: one folder per run under the site's history folder, oldest first.

Each run's folder holds its full reports and a one-line summary (``point.json``: when, the compliance
score, the verdict). The compliance-over-time chart needs only the summaries: reading back up to 60 full
reports on every run cost seconds and hundreds of megabytes at 20 nodes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from securemode.reports.hdf import ControlStatus, control_counts
from securemode.reports.json_report import read_report
from securemode.reports.model import Report

POINT_FILE = "point.json"


class HistoryPoint(BaseModel):
    """One run on the compliance-over-time chart."""

    generated_at: datetime
    score: float
    compliant: bool
    verdict: str


def compliance_score(report: Report) -> float:
    """Share of checked controls that hold, as Heimdall scores it: Passed / (Passed+Failed+Not Reviewed+Error)."""
    counts = control_counts(report)
    total = sum(counts[s] for s in (ControlStatus.PASSED, ControlStatus.FAILED, ControlStatus.NOT_REVIEWED,
                                    ControlStatus.ERROR))
    return 100.0 * counts[ControlStatus.PASSED] / total if total else 0.0


def point_of(report: Report) -> HistoryPoint:
    return HistoryPoint(generated_at=report.generated_at, score=compliance_score(report),
                        compliant=report.compliant(), verdict=report.verdict())


def write_point(report: Report, run_dir: Path) -> None:
    """Record the run's summary next to its reports."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / POINT_FILE).write_text(point_of(report).model_dump_json())


def load_history(folder: Path, limit: int = 60) -> list[HistoryPoint]:
    """The last ``limit`` runs' summaries (run folders are UTC stamps, so names sort by time; 'last' is a
    copy); a run recorded before summaries existed is summarised from its report."""
    if not folder.is_dir():
        return []
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "last"
                  and ((p / POINT_FILE).exists() or (p / "report.json").exists()))
    return [HistoryPoint.model_validate_json((run / POINT_FILE).read_text()) if (run / POINT_FILE).exists()
            else point_of(read_report(run / "report.json")) for run in runs[-limit:]]
