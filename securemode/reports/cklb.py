"""CKLB: STIG Viewer 3's JSON checklist, one per ESXi host, for the catalogue's ESXi STIG rows.

Statuses follow the HDF mapping (so SAF's `hdf2ckl` of our HDF agrees rule by rule) with one deliberate
difference: a waived rule stays ``open`` (a risk-accepted finding is still a finding in a checklist) and the
waiver goes into the comments, where SAF's conversion shows a waived (skipped) control as Not_Reviewed. A STIG
rule this run did not check is ``not_reviewed``, never ``not_a_finding``. Finding details carry our evidence.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from securemode.catalogue import CONTROLS, Control
from securemode.reports.hdf import ControlStatus, control_status
from securemode.reports.model import Report
from securemode.results import Result, Status

CKLB_VERSION = "1.0"
STIG_NAME = "VMware vSphere 8.0 ESXi Security Technical Implementation Guide"
STIG_ID = "VMW_vSphere_8-0_ESXi_STIG"
_NAMESPACE = uuid.UUID("6f1c7d2e-3b7a-4c1e-9a55-1c2f0e8d4b10")
_STATUS = {ControlStatus.PASSED: "not_a_finding", ControlStatus.FAILED: "open",
           ControlStatus.ERROR: "not_reviewed", ControlStatus.NOT_REVIEWED: "not_reviewed",
           ControlStatus.NOT_APPLICABLE: "not_applicable"}


def stig_controls() -> list[Control]:
    return [c for c in CONTROLS if c.stig is not None]


def stig_hosts(report: Report) -> list[str]:
    """ESXi hosts with at least one STIG result in the report, in first-seen order."""
    ids = {c.id for c in stig_controls()}
    return list(dict.fromkeys(r.target for r in report.results if r.control in ids))


def rule_status(results: list[Result]) -> str:
    """The checklist status of one rule on one host."""
    if not results:
        return "not_reviewed"
    if any(r.status is Status.WAIVED for r in results) and not any(r.status is Status.ERROR for r in results):
        return "open"
    return _STATUS[control_status(results)]


def render_cklb(report: Report, host: str) -> str:
    return json.dumps(cklb_document(report, host), indent=2) + "\n"


def cklb_document(report: Report, host: str) -> dict[str, Any]:
    stig_uuid = str(uuid.uuid5(_NAMESPACE, f"{report.site}/{host}/{STIG_ID}"))
    rules = [_rule(control, [r for r in report.results if r.control == control.id and r.target == host],
                   report, host, stig_uuid) for control in stig_controls()]
    return {
        "title": f"{STIG_NAME} — {host} ({report.site})",
        "id": str(uuid.uuid5(_NAMESPACE, f"{report.site}/{host}/{report.generated_at.isoformat()}")),
        "stigs": [{
            "stig_name": STIG_NAME,
            "display_name": "VMware vSphere 8.0 ESXi",
            "stig_id": STIG_ID,
            "release_info": "VMware vSphere 8.0 ESXi STIG rules as tagged in VMware's InSpec profile",
            "version": "2",
            "uuid": stig_uuid,
            "reference_identifier": "0000",
            "size": len(rules),
            "rules": rules,
        }],
        "active": False,
        "mode": 1,
        "has_path": True,
        "target_data": {"target_type": "Computing", "host_name": host, "ip_address": "", "mac_address": "",
                        "fqdn": "", "comments": f"securemode {report.tool_version}, site {report.site}, generated "
                        f"{report.generated_at.isoformat()}", "role": "None", "is_web_database": False,
                        "technology_area": "", "web_db_site": "", "web_db_instance": "", "classification": None},
        "cklb_version": CKLB_VERSION,
    }


def _rule(control: Control, results: list[Result], report: Report, host: str, stig_uuid: str) -> dict[str, Any]:
    bound = report.info(control.id)
    stig = control.stig
    assert stig is not None
    return {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{stig_uuid}/{stig.rule_id}")),
        "stig_uuid": stig_uuid,
        "target_key": None,
        "stig_ref": None,
        "group_id": stig.vuln_id,
        "group_id_src": stig.vuln_id,
        "rule_id": stig.rule_id.removesuffix("_rule"),
        "rule_id_src": stig.rule_id,
        "rule_version": stig.stig_id,
        "group_title": stig.srg_id,
        "rule_title": control.title,
        "severity": control.severity.value,
        "weight": "10.0",
        "classification": "UNCLASSIFIED",
        "ccis": list(stig.ccis),
        "legacy_ids": [],
        "discussion": "", "check_content": f"securemode verifies {control.setting or control.id} with "
        f"{', '.join(bound.verified_by) if bound.bound else 'unknown'}; desired {json.dumps(control.desired)}",
        "fix_text": f"securemode enforces it with {bound.fix}" if bound.fix else "",
        "false_positives": "", "false_negatives": "", "documentable": "false", "mitigations": "",
        "potential_impacts": "", "third_party_tools": "", "mitigation_control": "", "responsibility": "",
        "security_override_guidance": "", "ia_controls": "", "check_content_ref": {"href": "", "name": "M"},
        "status": rule_status(results),
        "overrides": {},
        "finding_details": "\n\n".join(_details(r) for r in results) if results else
        f"Not checked by this run (stages run: {', '.join(report.stages)}).",
        "comments": "\n".join(_comment(r) for r in results) if results else "securemode: not checked",
    }


def _details(result: Result) -> str:
    lines = [f"securemode {result.status.value} on {result.target} at {result.started_at.isoformat()}",
             f"observed: {json.dumps(result.observed)}", f"expected: {json.dumps(result.expected)}"]
    if result.message:
        lines.insert(1, result.message)
    return "\n".join(lines + result.transcript)


def _comment(result: Result) -> str:
    if result.waiver is not None:
        w = result.waiver
        return f"Waived: {w.reason} (approved by {w.approver}, expires {w.expires.date().isoformat()})"
    if result.attestation is not None:
        a = result.attestation
        return f"Attested by {a.who} at {a.at.isoformat()}{': ' + a.note if a.note else ''}"
    if result.status is Status.ERROR:
        return "Could not be checked (ERROR): review the finding details; not a pass."
    return f"securemode {result.status.value}"
