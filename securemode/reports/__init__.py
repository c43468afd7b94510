"""Reports: JSON (with a committed JSON Schema), JUnit XML, one self-contained HTML page, HDF for MITRE's
Heimdall and SAF CLI, and a STIG Viewer 3 checklist (CKLB) per ESXi host."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from securemode.reports.cklb import render_cklb, stig_hosts
from securemode.reports.hdf import render_hdf
from securemode.reports.history import HistoryPoint
from securemode.reports.html_report import render_html
from securemode.reports.json_report import render_json
from securemode.reports.junit import render_junit
from securemode.reports.model import Approval, Report

FORMATS = ("json", "junit", "html", "hdf", "cklb")


def render_reports(report: Report, formats: Iterable[str] = FORMATS,
                   history: list[HistoryPoint] | None = None) -> dict[str, str]:
    """File name → text for each wanted format (secrets are redacted first); CKLB gives one file per host."""
    clean = report.model_copy(update={"results": [r.redacted() for r in report.results]})
    wanted = set(formats)
    files: dict[str, str] = {}
    if "json" in wanted:
        files["report.json"] = render_json(clean)
    if "junit" in wanted:
        files["junit.xml"] = render_junit(clean)
    if "html" in wanted:
        files["report.html"] = render_html(clean, history or [])
    if "hdf" in wanted:
        files["report.hdf.json"] = render_hdf(clean)
    if "cklb" in wanted:
        files.update({f"{host}.cklb": render_cklb(clean, host) for host in stig_hosts(clean)})
    return files


def write_reports(report: Report, directory: Path, formats: Iterable[str] = FORMATS,
                  history: list[HistoryPoint] | None = None) -> dict[str, Path]:
    """Write the wanted formats into ``directory``; returns file name → path."""
    return write_rendered(render_reports(report, formats, history), directory)


def write_rendered(files: dict[str, str], directory: Path) -> dict[str, Path]:
    """Write reports rendered once (:func:`render_reports`) into ``directory``; returns file name → path."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written[name] = path
    return written


__all__ = ["FORMATS", "Approval", "Report", "render_html", "render_json", "render_junit", "render_reports",
           "write_rendered", "write_reports"]
