"""The rule that lets the next stage start, on recorded facts (fixed results, no lab): what a stage's
verifiers report for its targets, and whether the pipeline may go on. Only PASS, WAIVED, NOT_APPLICABLE and
an attested MANUAL let it; ERROR only for a control the site allows to be unverifiable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from securemode.outcome import blockers, blocks_next_stage, describe_blockers
from securemode.results import Attestation, Result, Status, Waiver
from securemode.waivers import apply_waivers
from tests.unit.results_factory import T0, result

NTP = "platform.ntp.authenticated"
BIOS = "vms.bios.supervisor-password"
ATTESTED = Attestation(control=BIOS, target="mgr01", who="bios-technician", note="set at the console", at=T0)
WAIVER = Waiver(
    control="platform.location.mtu",
    target="Oslo",
    reason="hardware refresh due",
    approver="CISO",
    expires=T0 + timedelta(days=30),
)

# (what the verifier reported, controls the site allows to be ERROR, does it stop the pipeline?)
RECORDED: list[tuple[str, Result, frozenset[str], bool]] = [
    ("pass", result("pki.tls10-refused", "mgr", Status.PASS, "TLS 1.0 handshake refused"), frozenset(), False),
    (
        "not applicable",
        result("platform.syslog.delivery", "-", Status.NOT_APPLICABLE, "no syslog server in the site"),
        frozenset(),
        False,
    ),
    (
        "fail",
        result("platform.snmp.v2c-refused", "conf01", Status.FAIL, "SNMPv2c community 'public' answered"),
        frozenset(),
        True,
    ),
    ("error", result(NTP, "10.213.0.5", Status.ERROR, "no NTP reply within 2 s"), frozenset(), True),
    (
        "error allowed for this control",
        result(NTP, "10.213.0.5", Status.ERROR, "no NTP reply within 2 s"),
        frozenset({NTP}),
        False,
    ),
    (
        "error allowed for another control",
        result(NTP, "10.213.0.5", Status.ERROR, "no NTP reply within 2 s"),
        frozenset({"platform.dns.answers"}),
        True,
    ),
    (
        "fail is never excused by allow_error",
        result(NTP, "10.213.0.5", Status.FAIL, "key 1 rejected"),
        frozenset({NTP}),
        True,
    ),
    (
        "manual, not attested",
        result(BIOS, "mgr01", Status.MANUAL, "set the BIOS supervisor password"),
        frozenset(),
        True,
    ),
    (
        "manual, attested",
        result(BIOS, "mgr01", Status.MANUAL, "set the BIOS supervisor password").model_copy(
            update={"attestation": ATTESTED}
        ),
        frozenset(),
        False,
    ),
    (
        "manual, not attested, allow_error does not excuse it",
        result(BIOS, "mgr01", Status.MANUAL, "set the BIOS supervisor password"),
        frozenset({BIOS}),
        True,
    ),
]


@pytest.mark.parametrize(
    ("found", "allow_error", "blocks"), [case[1:] for case in RECORDED], ids=[case[0] for case in RECORDED]
)
def test_blocks_next_stage(found: Result, allow_error: frozenset[str], blocks: bool) -> None:
    assert blocks_next_stage(found, allow_error) is blocks


def test_a_waived_fail_does_not_block_but_an_expired_waiver_does() -> None:
    failed = result("platform.location.mtu", "Oslo", Status.FAIL, "mtu 1500", observed=1500)
    [waived] = apply_waivers([failed], [WAIVER], now=T0)
    [lapsed] = apply_waivers([failed], [WAIVER], now=T0 + timedelta(days=31))
    assert (waived.status, blocks_next_stage(waived, frozenset())) == (Status.WAIVED, False)
    assert (lapsed.status, blocks_next_stage(lapsed, frozenset())) == (Status.FAIL, True)


def test_blockers_of_a_stage_are_named_in_order() -> None:
    stage = [case[1] for case in RECORDED]
    found = blockers(stage, frozenset({NTP}))
    assert [(r.control, r.target, r.status) for r in found] == [
        ("platform.snmp.v2c-refused", "conf01", Status.FAIL),
        (NTP, "10.213.0.5", Status.FAIL),
        (BIOS, "mgr01", Status.MANUAL),
        (BIOS, "mgr01", Status.MANUAL),
    ]
    assert describe_blockers("platform", found[:2]) == (
        "stage platform is not compliant; the pipeline stops here: platform.snmp.v2c-refused [conf01] FAIL, "
        "platform.ntp.authenticated [10.213.0.5] FAIL"
    )
