"""Two runs an assessor receives: a compliant one, and one with every kind of outcome."""

from __future__ import annotations

from datetime import timedelta

from securemode.reports import Report
from securemode.results import Attestation, Result, Status, Waiver
from tests.unit.results_factory import T0, result

WAIVER = Waiver(control="platform.location.mtu", target="*", reason="WAN carrier fixes MTU at 1500",
                approver="ISSO J. Doe", expires=T0 + timedelta(days=90))


def attested(control: str, target: str) -> Result:
    who = Attestation(control=control, target=target, who="A. Admin", note="set in the BIOS Security page", at=T0)
    return result(control, target, Status.MANUAL, message="needs a person").model_copy(update={"attestation": who})


def waived(control: str, target: str, underlying: str) -> Result:
    return result(control, target, Status.WAIVED, message=f"waived (FAIL): {underlying}").model_copy(
        update={"waiver": WAIVER})


def compliant_report() -> Report:
    return Report(site="lab", generated_at=T0, stages=["host", "vms"], results=[
        result("host.pnics.count", "esxi01", Status.PASS, observed=2),
        result("host.stig.ESXI-80-000193", "esxi01", Status.PASS, observed={"running": False, "policy": "off"}),
        result("host.stig.ESXI-80-000217", "esxi01", Status.PASS, observed=False),
        result("host.stig.ESXI-80-000213", "esxi01", Status.PASS, observed=2),
        attested("vms.bios.supervisor-password", "mgr01"),
        result("vms.cpu.shares", "mgr01", Status.PASS, observed="normal"),
        result("vms.cpu.shares", "conf01", Status.PASS, observed="normal"),
    ])


def mixed_report() -> Report:
    return Report(site="lab", generated_at=T0, stages=["host", "vms", "platform"], results=[
        result("host.pnics.count", "esxi01", Status.PASS, observed=2),
        result("host.stig.ESXI-80-000193", "esxi01", Status.FAIL, message="SSH running", observed={"running": True},
               transcript=["serviceInfo TSM-SSH running=True policy=on"]),
        result("host.stig.ESXI-80-000008", "esxi01", Status.ERROR, message="host not reachable: timed out"),
        result("host.stig.ESXI-80-000217", "esxi01", Status.PASS, observed=False),
        result("host.stig.ESXI-80-000217", "esxi02", Status.FAIL, message="vSwitch1 accepts MAC changes",
               observed=True),
        attested("vms.bios.supervisor-password", "mgr01"),
        result("vms.bios.supervisor-password", "conf01", Status.MANUAL, message="no attestation recorded"),
        result("contingency.licence-transfer", "fallback", Status.MANUAL, message="no attestation recorded"),
        waived("platform.location.mtu", "Oslo", "MTU 1500"),
        waived("platform.location.mtu", "Bergen", "MTU 1500"),
        result("platform.ipv6", "conf01", Status.NOT_APPLICABLE, message="no IPv6 in the site"),
    ])


# What Heimdall must show, worked out by hand from the runs above (control level):
# compliant: 6 controls pass (the attested BIOS password included).
COMPLIANT_EXPECTED = {"Passed": 6, "Failed": 0, "Profile Error": 0, "Not Applicable": 0, "Not Reviewed": 0}
# mixed: passed host.pnics.count; failed ESXI-80-000193 and 000217 (one host of two fails); error ESXI-80-000008;
# BIOS password: one target attested, one not -> passed wins over skipped in inspecjs (we keep it not compliant);
# licence transfer unattested -> Not Reviewed; MTU fully waived and IPv6 N/A -> Not Applicable.
MIXED_EXPECTED = {"Passed": 2, "Failed": 2, "Profile Error": 1, "Not Applicable": 2, "Not Reviewed": 1}
