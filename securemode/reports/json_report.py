"""JSON report and its JSON Schema, generated from the models (like sslyze's committed schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from securemode.reports.model import Report

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def report_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Report`."""
    return Report.model_json_schema()


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> None:
    """Regenerate the committed schema (``securemode report --write-schema``)."""
    path.write_text(json.dumps(report_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_report(path: Path) -> Report:
    return Report.model_validate_json(path.read_text(encoding="utf-8"))
