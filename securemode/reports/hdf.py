"""HDF (Heimdall Data Format) export: the JSON InSpec/CINC emit and MITRE's SAF CLI and Heimdall read.

One profile for the run, one HDF control per catalogue control, one HDF result per target (as VMware's ESXi
InSpec profile loops hosts). Statuses are mapped without flattery: ERROR is "error" (never "passed"), a MANUAL
control without an attestation is "skipped" with its reason, an attested one "passed" naming who attested, and
a waiver is the control's ``waiver_data`` (reason, approver, expiry). Evidence (observed, expected, transcript)
is each result's message; how a control is checked and fixed is the control's ``code``.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from itertools import groupby
from typing import Any

from securemode.catalogue import BY_ID
from securemode.reports.model import ControlInfo, Report
from securemode.results import Result, Status

PROFILE_NAME = "securemode-pexip-secure-mode"


class ControlStatus(StrEnum):
    """A control's verdict over its targets, with the precedence Heimdall (inspecjs) applies."""

    PASSED = "Passed"
    FAILED = "Failed"
    ERROR = "Profile Error"
    NOT_APPLICABLE = "Not Applicable"
    NOT_REVIEWED = "Not Reviewed"


def result_status(result: Result) -> str:
    """The HDF status of one result."""
    if result.status is Status.PASS:
        return "passed"
    if result.status is Status.FAIL:
        return "failed"
    if result.status is Status.ERROR:
        return "error"
    if result.status is Status.MANUAL and result.attestation is not None:
        return "passed"
    return "skipped"  # NOT_APPLICABLE, MANUAL without attestation, WAIVED (the waiver is on the control)


def fully_waived(results: list[Result]) -> bool:
    """Every result of the control is waived: only then may the waiver decide the control's status."""
    return bool(results) and all(r.status is Status.WAIVED and r.waiver is not None for r in results)


def control_status(results: list[Result]) -> ControlStatus:
    """The control-level verdict; the same order as inspecjs (error, waived or N/A, failed, passed, skipped)."""
    statuses = [result_status(r) for r in results]
    if not statuses or "error" in statuses:
        return ControlStatus.ERROR
    if fully_waived(results) or all(r.status is Status.NOT_APPLICABLE for r in results):
        return ControlStatus.NOT_APPLICABLE
    if "failed" in statuses:
        return ControlStatus.FAILED
    if "passed" in statuses:
        return ControlStatus.PASSED
    return ControlStatus.NOT_REVIEWED


def control_counts(report: Report) -> dict[ControlStatus, int]:
    """How many controls end in each verdict (what Heimdall and `saf view summary` count)."""
    counts = dict.fromkeys(ControlStatus, 0)
    for results in _by_control(report).values():
        counts[control_status(results)] += 1
    return counts


def render_hdf(report: Report) -> str:
    return json.dumps(hdf_document(report), indent=2) + "\n"


def hdf_document(report: Report) -> dict[str, Any]:
    by_control = _by_control(report)
    controls = [_control(cid, report.info(cid), results) for cid, results in by_control.items()]
    groups = [{"id": stage, "title": f"Stage {stage}", "controls": [c["id"] for c in members]}
              for stage, members in groupby(controls, key=lambda c: str(c["tags"]["stage"]))]
    body = json.dumps(controls, sort_keys=True).encode()
    profile = {
        "name": PROFILE_NAME,
        "title": "Pexip Infinity secure mode (guide v16.a) and the VMware vSphere 8.0 ESXi STIG subset",
        "maintainer": "securemode",
        "summary": f"securemode {report.tool_version} checks of site {report.site}, stages {', '.join(report.stages)}",
        "version": report.tool_version,
        "license": "proprietary",
        "copyright": "securemode",
        "supports": [],
        "attributes": [],
        "depends": [],
        "groups": groups,
        "status": "loaded",
        "sha256": hashlib.sha256(body).hexdigest(),
        "controls": controls,
    }
    return {
        "platform": {"name": "pexip-infinity-on-vmware-esxi", "release": report.site, "target_id": report.site},
        "profiles": [profile],
        "statistics": {"duration": round(sum(r.duration_s for r in report.results), 6)},
        "version": report.tool_version,
        "passthrough": {"securemode": {"format_version": report.format_version, "generated_at":
                                       report.generated_at.isoformat(), "stages": report.stages}},
    }


def _by_control(report: Report) -> dict[str, list[Result]]:
    grouped: dict[str, list[Result]] = {}
    for result in report.results:
        grouped.setdefault(result.control, []).append(result)
    return grouped


def _control(control_id: str, info: ControlInfo, results: list[Result]) -> dict[str, Any]:
    catalogue = BY_ID.get(control_id)
    all_na = all(r.status is Status.NOT_APPLICABLE for r in results)
    tags: dict[str, Any] = {"severity": info.severity.value, "nist": info.nist or ["UM-1"], "stage": info.stage,
                            "section": info.section}
    if info.stig is not None:
        tags.update(gid=info.stig.vuln_id, rid=info.stig.rule_id, stig_id=info.stig.stig_id,
                    gtitle=info.stig.srg_id, cci=list(info.stig.ccis))
    check = ", ".join(info.verified_by) if info.bound else "unknown"
    fix = (info.fix or "verify only (the guide asks to review, not to change)") if info.bound else "unknown"
    control: dict[str, Any] = {
        "id": control_id,
        "title": info.title,
        "desc": (catalogue.guide_text if catalogue and catalogue.guide_text else info.title),
        "descriptions": [{"label": "default", "data": info.title}, {"label": "check", "data": f"Verified by {check}"},
                         {"label": "fix", "data": f"Enforced by {fix}"}],
        "impact": 0.0 if all_na else info.severity.impact,
        "refs": [],
        "tags": tags,
        "code": json.dumps({"desired": catalogue.desired if catalogue else None,
                            "setting": catalogue.setting if catalogue else None,
                            "verified_by": check, "enforced_by": fix}, indent=2),
        "source_location": {"ref": f"securemode/catalogue/{info.stage}.py", "line": 1},
        "results": [_result(r) for r in results],
    }
    waivers = [r for r in results if r.status is Status.WAIVED and r.waiver is not None]
    if waivers:
        w = waivers[0].waiver
        assert w is not None
        control["waiver_data"] = {
            "justification": f"{w.reason} (approved by {w.approver}, expires {w.expires.date().isoformat()})",
            "expiration_date": w.expires.date().isoformat(),
            "run": True,
            "skipped_due_to_waiver": fully_waived(results),
            "message": "; ".join(f"{r.target}: {r.message}" for r in waivers),
        }
    return control


def _evidence(result: Result) -> str:
    lines = [f"target: {result.target}", f"observed: {json.dumps(result.observed)}",
             f"expected: {json.dumps(result.expected)}"]
    if result.message:
        lines.insert(1, f"message: {result.message}")
    return "\n".join(lines + result.transcript)


def _result(result: Result) -> dict[str, Any]:
    status = result_status(result)
    entry: dict[str, Any] = {
        "status": status,
        "code_desc": f"{result.control} on {result.target}: securemode {result.status.value}",
        "run_time": result.duration_s,
        "start_time": result.started_at.isoformat(),
        "resource": result.target,
    }
    if result.status is Status.MANUAL and result.attestation is not None:
        a = result.attestation
        entry["code_desc"] = (f"{result.control} on {result.target}: attested by {a.who} at {a.at.isoformat()}"
                              f"{' — ' + a.note if a.note else ''}")
        entry["message"] = _evidence(result)
    elif status == "skipped":
        reason = {Status.NOT_APPLICABLE: "not applicable", Status.MANUAL: "needs a person's attestation; none "
                  "recorded", Status.WAIVED: "waived"}[result.status]
        entry["skip_message"] = f"{reason}: {result.message}\n{_evidence(result)}"
    else:
        entry["message"] = _evidence(result)
    return entry
