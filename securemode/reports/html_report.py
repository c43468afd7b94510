"""One self-contained HTML page: summary counts, a table per stage, evidence on demand.

Failing and erroring rows open their evidence by default, so a reader sees why without clicking.
"""

from __future__ import annotations

import json
from html import escape
from itertools import groupby

from securemode.catalogue import BY_ID
from securemode.reports.model import Report
from securemode.results import Result, Status

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
.counts{display:flex;gap:.6em;flex-wrap:wrap}.count{padding:.4em .8em;border-radius:4px;background:#eee}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;
vertical-align:top}
.PASS{color:#176f2c}.FAIL{color:#b00020;font-weight:bold}.ERROR{color:#8a4b00;font-weight:bold}
.WAIVED{color:#5a4fcf}.MANUAL{color:#005a8c}.NOT_APPLICABLE{color:#777}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;margin:.3em 0}
"""
_JS = """
document.getElementById('only-problems').addEventListener('change', function (e) {
  document.querySelectorAll('tr.result').forEach(function (row) {
    row.hidden = e.target.checked && !row.classList.contains('problem');
  });
});
"""
_PROBLEMS = {Status.FAIL, Status.ERROR}


def render_html(report: Report) -> str:
    counts = report.counts()
    verdict = "COMPLIANT" if report.compliant() else "NOT COMPLIANT"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>securemode report: {escape(report.site)}</title><style>{_CSS}</style></head><body>",
        f"<h1>securemode report: {escape(report.site)} — <span id='verdict'>{verdict}</span></h1>",
        f"<p>Generated {escape(report.generated_at.isoformat())} by securemode {escape(report.tool_version)}; "
        f"stages: {escape(', '.join(report.stages))}.</p>",
        "<div class='counts' id='counts'>",
        *(f"<span class='count {s.value}' data-status='{s.value}'>{s.value}: {counts[s]}</span>" for s in Status),
        "</div>",
        "<p><label><input type='checkbox' id='only-problems'> Show only FAIL and ERROR</label></p>",
    ]
    for stage, group in groupby(report.results, key=_stage_of):
        parts.append(_stage_table(stage, list(group)))
    if report.approvals or report.attestations:
        parts.append("<h2>Approvals and attestations</h2><ul>")
        parts += [f"<li>{escape(a.step)}: approved by {escape(a.who)} at {escape(a.at.isoformat())}"
                  f"{' — ' + escape(a.note) if a.note else ''}</li>" for a in report.approvals]
        parts += [f"<li>{escape(a.control)} [{escape(a.target)}]: attested by {escape(a.who)} at "
                  f"{escape(a.at.isoformat())}{' — ' + escape(a.note) if a.note else ''}</li>"
                  for a in report.attestations]
        parts.append("</ul>")
    parts.append(f"<script>{_JS}</script></body></html>\n")
    return "".join(parts)


def _stage_of(result: Result) -> str:
    control = BY_ID.get(result.control)
    return control.stage.value if control else result.control.split(".", 1)[0]


def _stage_table(stage: str, results: list[Result]) -> str:
    rows = "".join(_row(r) for r in results)
    return (f"<h2 id='stage-{escape(stage)}'>Stage {escape(stage)}</h2><table><thead><tr><th>Control</th>"
            f"<th>Target</th><th>Result</th><th>Observed</th><th>Evidence</th></tr></thead><tbody>{rows}</tbody>"
            "</table>")


def _row(result: Result) -> str:
    control = BY_ID.get(result.control)
    title = control.title if control else ""
    problem = result.status in _PROBLEMS
    evidence = "\n".join([f"expected: {json.dumps(result.expected)}", f"message: {result.message}",
                          *result.transcript, f"started {result.started_at.isoformat()}, {result.duration_s:.3f} s"])
    opened = " open" if problem else ""
    return (
        f"<tr class='result{' problem' if problem else ''}' data-control='{escape(result.control)}'>"
        f"<td><code>{escape(result.control)}</code><br>{escape(title)}</td><td>{escape(result.target)}</td>"
        f"<td class='{result.status.value}'>{result.status.value}</td>"
        f"<td><code>{escape(json.dumps(result.observed))}</code></td>"
        f"<td><details{opened}><summary>evidence</summary><pre>{escape(evidence)}</pre></details></td></tr>"
    )
