"""The result model keeps 'could not check' apart from 'failed'; waivers expire."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from securemode.problems import InputError
from securemode.redact import register_secret
from securemode.results import Status, Waiver, probe
from securemode.waivers import apply_waivers, load_waivers
from tests.unit.results_factory import T0, result


def test_probe_records_verdict_evidence_and_duration() -> None:
    with probe("platform.snmp.v3", "conf01", expected="authPriv") as p:
        p.log("GET sysName.0")
        p.check(True, observed="conf01", message="unused")
    r = p.result
    assert (r.status, r.observed, r.transcript) == (Status.PASS, "conf01", ["GET sysName.0"])
    assert r.duration_s >= 0 and r.started_at.tzinfo is not None


def test_probe_exception_is_error_not_fail() -> None:
    with probe("pki.tls10-refused", "mgr01") as p:
        raise ConnectionRefusedError("connection refused")
    assert p.result.status is Status.ERROR
    assert "ConnectionRefusedError" in p.result.message


def test_probe_without_verdict_is_error() -> None:
    with probe("x.y", "t") as p:
        p.log("did nothing")
    assert p.result.status is Status.ERROR


def test_probe_scrubs_secrets_from_transcript_and_message() -> None:
    register_secret("s3cr3t-probe-value")
    with probe("x.y", "t") as p:
        p.log("auth key s3cr3t-probe-value sent")
        p.failed(observed="echo s3cr3t-probe-value", message="server said s3cr3t-probe-value")
    dumped = p.result.model_dump_json()
    assert "s3cr3t-probe-value" not in dumped
    assert "***" in dumped


def _waiver(control: str, target: str, expires_in: timedelta) -> Waiver:
    return Waiver(control=control, target=target, reason="hardware refresh due", approver="CISO",
                  expires=T0 + expires_in)


def test_active_waiver_turns_fail_into_waived_and_keeps_evidence() -> None:
    failed = result("platform.location.mtu", "Oslo", Status.FAIL, message="mtu 1500", observed=1500)
    [waived] = apply_waivers([failed], [_waiver("platform.location.mtu", "Os*", timedelta(days=1))], now=T0)
    assert waived.status is Status.WAIVED
    assert waived.observed == 1500 and "mtu 1500" in waived.message
    assert waived.waiver is not None and waived.waiver.approver == "CISO"


def test_expired_waiver_no_longer_applies() -> None:
    failed = result("platform.location.mtu", "Oslo", Status.FAIL)
    [still] = apply_waivers([failed], [_waiver("platform.location.mtu", "*", timedelta(seconds=-1))], now=T0)
    assert still.status is Status.FAIL


def test_waiver_does_not_touch_other_targets_or_passes() -> None:
    results = [result("a.b", "conf01", Status.FAIL), result("a.b", "conf02", Status.PASS)]
    out = apply_waivers(results, [_waiver("a.b", "conf02", timedelta(days=1))], now=T0)
    assert [r.status for r in out] == [Status.FAIL, Status.PASS]


def test_waivers_file(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - control: a.b\n    target: '*'\n    reason: r\n    approver: CISO\n"
                    "    expires: 2027-01-31T00:00:00Z\n")
    [w] = load_waivers(path)
    assert w.expires.tzinfo is not None
    path.write_text("waivers:\n  - control: a.b\n    reason: r\n    approver: CISO\n    expires: 2027-01-31T00:00:00\n")
    with pytest.raises(InputError, match="expires must carry a timezone"):
        load_waivers(path)


def test_waivers_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_bytes(b"waivers:\n  - control: a.b\n    reason: caf\xe9\n")
    with pytest.raises(InputError) as info:
        load_waivers(path)
    [problem] = info.value.problems
    assert "byte 41 (0xe9)" in problem.message and "save the waivers file as UTF-8" in problem.fix


def test_waivers_file_alias_bomb_is_refused_before_validation(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    path = tmp_path / "waivers.yaml"
    path.write_text("\n".join(levels) + "\nwaivers: *a5\n")
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_waivers(path)
    assert time.perf_counter() - started < 1
    [problem] = info.value.problems
    assert "aliases expand the document" in problem.message
