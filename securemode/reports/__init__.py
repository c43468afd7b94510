"""Reports: JSON (with a committed JSON Schema), JUnit XML and one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

from securemode.reports.html_report import render_html
from securemode.reports.json_report import render_json
from securemode.reports.junit import render_junit
from securemode.reports.model import Approval, Report


def write_reports(report: Report, directory: Path) -> dict[str, Path]:
    """Write report.json, junit.xml and report.html (secrets are redacted first)."""
    directory.mkdir(parents=True, exist_ok=True)
    clean = report.model_copy(update={"results": [r.redacted() for r in report.results]})
    outputs = {
        "json": (directory / "report.json", render_json(clean)),
        "junit": (directory / "junit.xml", render_junit(clean)),
        "html": (directory / "report.html", render_html(clean)),
    }
    for path, text in outputs.values():
        path.write_text(text, encoding="utf-8")
    return {kind: path for kind, (path, _) in outputs.items()}


__all__ = ["Approval", "Report", "render_html", "render_json", "render_junit", "write_reports"]
