"""Artifacts in the Prefect UI: per stage a results table and a summary, per run the report links.

What does not hold comes first (FAIL, then ERROR, then unattested MANUAL) with expected vs observed;
report links are HTTP addresses when `securemode serve` publishes the report folder, file paths otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from securemode.outcome import StageOutcome
from securemode.redact import redact
from securemode.report_links import report_url
from securemode.results import Result, Status

ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.MANUAL: 2}
REPORTS = (("HTML", "report.html"), ("JSON", "report.json"), ("JUnit", "junit.xml"))


def artifact_key(*parts: str) -> str:
    """Prefect keys are lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def _json(value: object) -> str:
    return redact(json.dumps(value, default=str))


def worst_first(results: Sequence[Result]) -> list[Result]:
    return sorted(results, key=lambda r: ORDER.get(r.status, len(ORDER)))


def not_holding(results: Sequence[Result]) -> list[str]:
    """Markdown lines for every FAIL and ERROR (then MANUAL), with expected vs observed."""
    bad = [r for r in worst_first(results) if r.status in ORDER and not (r.status is Status.MANUAL and r.attestation)]
    return [f"* **{r.status.value}** `{r.control}` [{r.target}]: expected `{_json(r.expected)}`, observed "
            f"`{_json(r.observed)}`" + (f" — {redact(r.message)}" if r.message else "") for r in bad]


def report_links(report_dir: Path) -> str:
    links = []
    for label, name in REPORTS:
        url = report_url(report_dir, name) or (report_dir / name).as_uri()
        links.append(f"[{label}]({url})")
    return "Reports: " + " · ".join(links)


def publish_stage(site_name: str, outcome: StageOutcome, report_dir: Path | None) -> None:
    rows = [{"result": r.status.value, "control": r.control, "target": r.target, "expected": _json(r.expected),
             "observed": _json(r.observed)} for r in worst_first(outcome.results)]
    if rows:
        create_table_artifact(key=artifact_key(site_name, outcome.stage, "results"), table=rows,
                              description=f"securemode {outcome.stage} results for {site_name} (worst first)")
    counts = {s: sum(1 for r in outcome.results if r.status is s) for s in Status}
    lines = [f"# Stage {outcome.stage} — {site_name}", "",
             " · ".join(f"**{s.value}** {n}" for s, n in counts.items() if n), ""]
    bad = not_holding(outcome.results)
    if bad:
        lines += ["## Not holding", "", *bad, ""]
    lines += [f"Changes: {sum(1 for c in outcome.changes if c.applied)} applied, "
              f"{sum(1 for c in outcome.changes if not c.applied)} pending."]
    lines += [f"* skipped: {redact(s)}" for s in outcome.skipped]
    lines += [f"* approved `{a.step}` by {a.who}" for a in outcome.approvals]
    if report_dir is not None:
        lines += ["", report_links(report_dir)]
    create_markdown_artifact(key=artifact_key(site_name, outcome.stage, "summary"), markdown="\n".join(lines),
                             description=f"securemode {outcome.stage} summary")


def publish_run(site_name: str, kind: str, results: Sequence[Result], report_dir: Path, headline: str) -> None:
    """One summary per top-level run (pipeline or reverify): what does not hold, and the reports."""
    lines = [f"# {kind} — {site_name}", "", redact(headline), ""]
    bad = not_holding(results)
    if bad:
        lines += ["## Not holding", "", *bad, ""]
    lines.append(report_links(report_dir))
    create_markdown_artifact(key=artifact_key(site_name, kind, "report"), markdown="\n".join(lines),
                             description=f"securemode {kind} report for {site_name}")
