"""Per-stage artifacts in the Prefect UI: a results table and a markdown summary linking to the reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from securemode.outcome import StageOutcome
from securemode.redact import redact
from securemode.results import Status


def artifact_key(*parts: str) -> str:
    """Prefect keys are lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def publish_stage(site_name: str, outcome: StageOutcome, report_dir: Path | None) -> None:
    rows = [{"control": r.control, "target": r.target, "result": r.status.value,
             "observed": redact(json.dumps(r.observed))} for r in outcome.results]
    if rows:
        create_table_artifact(key=artifact_key(site_name, outcome.stage, "results"), table=rows,
                              description=f"securemode {outcome.stage} results for {site_name}")
    counts = {s: sum(1 for r in outcome.results if r.status is s) for s in Status}
    lines = [f"# Stage {outcome.stage} — {site_name}", "",
             " · ".join(f"**{s.value}** {n}" for s, n in counts.items() if n), "",
             f"Changes: {sum(1 for c in outcome.changes if c.applied)} applied, "
             f"{sum(1 for c in outcome.changes if not c.applied)} pending."]
    lines += [f"* skipped: {redact(s)}" for s in outcome.skipped]
    lines += [f"* approved `{a.step}` by {a.who}" for a in outcome.approvals]
    if report_dir is not None:
        links = [f"[{label}]({(report_dir / name).as_uri()})"
                 for label, name in (("HTML", "report.html"), ("JSON", "report.json"), ("JUnit", "junit.xml"))]
        lines += ["", "Reports: " + " · ".join(links)]
    create_markdown_artifact(key=artifact_key(site_name, outcome.stage, "summary"), markdown="\n".join(lines),
                             description=f"securemode {outcome.stage} summary")
