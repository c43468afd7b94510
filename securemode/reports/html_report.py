"""One self-contained HTML page for people: the verdict and its coverage first, then what failed or could not be
checked (evidence open), then approvals, attestations and waivers, then every stage's table (collapsed), and a
compliance-over-time chart from the reverify history (inline SVG: the page loads nothing from a network).
"""

from __future__ import annotations

import json
from html import escape
from itertools import groupby

from securemode.reports.hdf import ControlStatus, control_counts
from securemode.reports.history import HistoryPoint
from securemode.reports.model import Report
from securemode.results import Result, Status

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
.verdict{font-size:1.3em;padding:.5em .8em;border-radius:6px;display:inline-block}
.v-ok{background:#e3f4e6;color:#176f2c}.v-partial{background:#fff4d6;color:#7a5300}.v-bad{background:#fde7ea;color:#b00020}
.counts{display:flex;gap:.6em;flex-wrap:wrap;margin:.5em 0}.count{padding:.4em .8em;border-radius:4px;background:#eee}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;
vertical-align:top}th{background:#f3f3f3}
.PASS{color:#176f2c}.FAIL{color:#b00020;font-weight:bold}.ERROR{color:#8a4b00;font-weight:bold}
.WAIVED{color:#5a4fcf}.MANUAL{color:#005a8c}.NOT_APPLICABLE{color:#777}
.sev-high{color:#b00020;font-weight:bold}.sev-medium{color:#8a4b00}.sev-low{color:#555}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;margin:.3em 0}
details.stage>summary{font-size:1.1em;font-weight:bold;margin-top:.8em;cursor:pointer}
.small{font-size:.9em;color:#555}
"""
_PROBLEMS = {Status.FAIL, Status.ERROR}
_VERDICT_CLASS = {"COMPLIANT": "v-ok", "COMPLIANT FOR THE STAGES RUN": "v-partial"}


def render_html(report: Report, history: list[HistoryPoint] | None = None) -> str:
    counts = report.counts()
    verdict = report.verdict()
    problems = [r for r in report.results if r.status in _PROBLEMS]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>securemode report: {escape(report.site)}</title><style>{_CSS}</style></head><body>",
        f"<h1>securemode report: {escape(report.site)}</h1>",
        f"<p class='verdict {_VERDICT_CLASS.get(verdict, 'v-bad')}' id='verdict'>{escape(verdict)}</p>",
        _coverage(report),
        f"<p class='small'>Generated {escape(report.generated_at.isoformat())} by securemode "
        f"{escape(report.tool_version)}; stages run: {escape(', '.join(report.stages) or 'none')}.</p>",
        "<h2>Results (control × target)</h2><div class='counts' id='counts'>",
        *(f"<span class='count {s.value}' data-status='{s.value}'>{s.value}: {counts[s]}</span>" for s in Status),
        "</div>",
        _control_counts(report),
        _chart(history or []),
        f"<h2 id='problems'>Failures and errors ({len(problems)})</h2>",
        _table(report, problems, open_evidence=True) if problems else "<p>None.</p>",
        _decisions(report),
        _operation(report),
        "<h2>Every stage</h2>",
    ]
    for stage, group in groupby(report.results, key=lambda r: report.info(r.control).stage):
        results = list(group)
        bad = sum(1 for r in results if r.status in _PROBLEMS)
        parts.append(f"<details class='stage' id='stage-{escape(stage)}'><summary>Stage {escape(stage)}: "
                     f"{len(results)} results, {bad} failed or errored</summary>"
                     f"{_table(report, results, open_evidence=False)}</details>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _coverage(report: Report) -> str:
    coverage = report.coverage
    if coverage is None:
        return ""
    text = (f"<p id='coverage'>Controls checked: <b>{coverage.checked} of {coverage.catalogue}</b> in the "
            "catalogue.")
    if coverage.not_checked:
        names = ", ".join(f"<code>{escape(c)}</code>" for c in coverage.not_checked)
        text += (f" The verdict covers only the controls checked; <b>{len(coverage.not_checked)} not checked</b>:"
                 f"</p><details id='not-checked'><summary>controls not checked</summary><p>{names}</p></details>")
    else:
        text += "</p>"
    return text


def _control_counts(report: Report) -> str:
    counts = control_counts(report)
    cells = "".join(f"<span class='count' data-control-status='{escape(s.value)}'>{escape(s.value)}: {counts[s]}"
                    "</span>" for s in ControlStatus)
    return (f"<h2>Controls, as Heimdall counts them</h2><div class='counts' id='control-counts'>{cells}</div>")


def _operation(report: Report) -> str:
    """A failover's or rebuild's timeline and its time to recovery."""
    op = report.operation
    if op is None:
        return ""
    recovery = f"{op.recovery_s:.1f} s" if op.recovery_s is not None else "not reached"
    rows = "".join(f"<tr><td>{escape(t.step)}</td><td>{escape(t.started_at.isoformat())}</td>"
                   f"<td>{escape(t.ended_at.isoformat())}</td><td>{t.seconds:.1f}</td><td>{escape(t.note)}</td></tr>"
                   for t in op.timeline)
    return (f"<h2 id='operation'>{escape(op.kind.capitalize())}: timeline</h2><p>Declared by "
            f"{escape(op.declared_by)} at {escape(op.started_at.isoformat())}: {escape(op.reason)}. Time to "
            f"recovery: <b id='recovery'>{escape(recovery)}</b>.</p><table><tr><th>step</th><th>started</th>"
            f"<th>ended</th><th>s</th><th>note</th></tr>{rows}</table>")


def _decisions(report: Report) -> str:
    waived = [r for r in report.results if r.status is Status.WAIVED and r.waiver is not None]
    attestations = list({(a.control, a.target): a for a in [*report.attestations, *(
        r.attestation for r in report.results if r.attestation is not None)]}.values())
    if not (report.approvals or attestations or waived):
        return "<h2>Approvals, attestations and waivers</h2><p>None.</p>"
    items = [f"<li>Approval of step <b>{escape(a.step)}</b> by {escape(a.who)} at {escape(a.at.isoformat())}"
             f"{' — ' + escape(a.note) if a.note else ''}</li>" for a in report.approvals]
    items += [f"<li>Attestation of <code>{escape(a.control)}</code> [{escape(a.target)}] by {escape(a.who)} at "
              f"{escape(a.at.isoformat())}{' — ' + escape(a.note) if a.note else ''}</li>" for a in attestations]
    for r in waived:
        w = r.waiver
        assert w is not None
        items.append(f"<li>Waiver of <code>{escape(r.control)}</code> [{escape(r.target)}]: {escape(w.reason)} — "
                     f"approved by {escape(w.approver)}, expires {escape(w.expires.isoformat())}</li>")
    return f"<h2>Approvals, attestations and waivers</h2><ul>{''.join(items)}</ul>"


def _table(report: Report, results: list[Result], open_evidence: bool) -> str:
    rows = "".join(_row(report, r, open_evidence) for r in results)
    return ("<table><thead><tr><th>Control</th><th>Guide section</th><th>Severity</th><th>Target</th>"
            f"<th>Result</th><th>Observed</th><th>Evidence</th></tr></thead><tbody>{rows}</tbody></table>")


def _row(report: Report, result: Result, open_evidence: bool) -> str:
    info = report.info(result.control)
    stig = f"<br><span class='small'>{escape(info.stig.stig_id)} {escape(info.stig.vuln_id)}</span>" \
        if info.stig else ""
    evidence = "\n".join([f"expected: {json.dumps(result.expected)}", f"message: {result.message}",
                          *result.transcript, f"started {result.started_at.isoformat()}, {result.duration_s:.3f} s"])
    opened = " open" if open_evidence else ""
    severity = f"{info.severity.value} ({info.severity.stig_category})" if info.stig else info.severity.value
    return (
        f"<tr class='result' data-control='{escape(result.control)}'>"
        f"<td><code>{escape(result.control)}</code><br>{escape(info.title)}</td>"
        f"<td>{escape(info.section)}{stig}</td><td class='sev-{info.severity.value}'>{escape(severity)}</td>"
        f"<td>{escape(result.target)}</td><td class='{result.status.value}'>{result.status.value}</td>"
        f"<td><code>{escape(json.dumps(result.observed))}</code></td>"
        f"<td><details{opened}><summary>evidence</summary><pre>{escape(evidence)}</pre></details></td></tr>"
    )


def _chart(history: list[HistoryPoint]) -> str:
    """Compliance over time: one point per reverify run (oldest left), drawn as inline SVG."""
    if len(history) < 2:
        return ("<h2>Compliance over time</h2><p class='small'>Fewer than two reverify runs recorded yet.</p>")
    width, height, pad = 720, 220, 40
    runs = sorted(history, key=lambda r: r.generated_at)
    scores = [r.score for r in runs]
    step = (width - 2 * pad) / (len(runs) - 1)
    points = [(pad + i * step, height - pad - (height - 2 * pad) * s / 100) for i, s in enumerate(scores)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{'#176f2c' if r.compliant else '#b00020'}'>"
        f"<title>{escape(r.generated_at.isoformat())}: {s:.0f}% ({escape(r.verdict)})</title></circle>"
        for (x, y), s, r in zip(points, scores, runs, strict=True))
    labels = (f"<text x='{pad}' y='{height - 10}' font-size='11'>{escape(runs[0].generated_at.date().isoformat())}"
              f"</text><text x='{width - pad}' y='{height - 10}' font-size='11' text-anchor='end'>"
              f"{escape(runs[-1].generated_at.date().isoformat())}</text>")
    axes = (f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#999'/>"
            f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#999'/>"
            f"<text x='{pad - 6}' y='{pad + 4}' font-size='11' text-anchor='end'>100%</text>"
            f"<text x='{pad - 6}' y='{height - pad + 4}' font-size='11' text-anchor='end'>0%</text>")
    return (f"<h2>Compliance over time</h2><svg id='compliance-chart' xmlns='http://www.w3.org/2000/svg' "
            f"width='{width}' height='{height}' role='img' aria-label='compliance over {len(runs)} runs'>{axes}"
            f"<polyline points='{line}' fill='none' stroke='#005a8c' stroke-width='2'/>{dots}{labels}</svg>")
