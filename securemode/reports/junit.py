"""JUnit XML: one testcase per control × target; ERROR stays an <error>, never a <failure>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from securemode.catalogue import BY_ID
from securemode.reports.model import Report
from securemode.results import Result, Status


def render_junit(report: Report) -> str:
    suites = ET.Element("testsuites", name=f"securemode {report.site}")
    stage_of = _stage_of
    ordered = sorted(report.results, key=lambda r: report.stages.index(stage_of(r)) if stage_of(r) in report.stages
                     else len(report.stages))
    for stage, group in groupby(ordered, key=stage_of):
        results = list(group)
        counts = {s: sum(1 for r in results if r.status is s) for s in Status}
        suite = ET.SubElement(
            suites, "testsuite", name=stage, tests=str(len(results)),
            failures=str(counts[Status.FAIL]), errors=str(counts[Status.ERROR]),
            skipped=str(counts[Status.NOT_APPLICABLE] + counts[Status.MANUAL] + counts[Status.WAIVED]),
            time=f"{sum(r.duration_s for r in results):.3f}", timestamp=report.generated_at.isoformat(),
        )
        for result in results:
            suite.append(_testcase(report, result))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _stage_of(result: Result) -> str:
    control = BY_ID.get(result.control)
    return control.stage.value if control else result.control.split(".", 1)[0]


def _testcase(report: Report, result: Result) -> ET.Element:
    # The control id already starts with its stage: no "host.host.pnics.count".
    case = ET.Element("testcase", classname=result.control, name=f"{result.control} [{result.target}]",
                      time=f"{result.duration_s:.3f}")
    info = report.controls.get(result.control)
    if info is not None:
        properties = ET.SubElement(case, "properties")
        facts = {"section": info.section, "severity": info.severity.value, "nist": ", ".join(info.nist)}
        if info.stig is not None:
            facts.update(stig_id=info.stig.stig_id, vuln_id=info.stig.vuln_id, rule_id=info.stig.rule_id,
                         cci=", ".join(info.stig.ccis))
        for name, value in facts.items():
            ET.SubElement(properties, "property", name=name, value=value)
    detail = _detail(result)
    if result.status is Status.FAIL:
        ET.SubElement(case, "failure", message=result.message or "failed").text = detail
    elif result.status is Status.ERROR:
        ET.SubElement(case, "error", message=result.message or "could not check").text = detail
    elif result.status is Status.MANUAL:
        msg = "manual: attested by " + result.attestation.who if result.attestation else "manual: needs attestation"
        ET.SubElement(case, "skipped", message=msg)
    elif result.status is Status.WAIVED:
        ET.SubElement(case, "skipped", message=result.message)
    elif result.status is Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=result.message or "not applicable")
    ET.SubElement(case, "system-out").text = detail
    return case


def _detail(result: Result) -> str:
    lines = [f"observed: {result.observed!r}", f"expected: {result.expected!r}"]
    lines += result.transcript
    return "\n".join(lines)
