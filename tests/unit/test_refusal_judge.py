"""The refusal judge (securemode.verifiers.tls.judge_refusal) on recorded handshakes: a refusal is a PASS only when
the server proved, within the same probe, that it is alive and speaks TLS."""

from __future__ import annotations

import pytest

from securemode.results import Status, probe
from securemode.verifiers import tls
from securemode.verifiers.tls import Handshake, wire

# Server bytes as recorded on the wire: one TLS alert record each (fatal, description).
PROTOCOL_VERSION_ALERT = bytes.fromhex("15030100020246")  # what OpenSSL sends to a TLS 1.0 hello it refuses
HANDSHAKE_FAILURE_ALERT = bytes.fromhex("15030300020228")  # no shared cipher (anonymous DH, non-FIPS suites)
INTERNAL_ERROR_ALERT = bytes.fromhex("15030300020250")

CLOSED = Handshake(completed=False, hello_sent=True, failure="server closed the connection", server_bytes=0)
OK_CONTROL = Handshake(completed=True, protocol="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", hello_sent=True)
FAILED_CONTROL = Handshake(completed=False, hello_sent=True, failure="server closed the connection")


def refused_with(alert_record: bytes) -> Handshake:
    alert = wire.first_alert(alert_record)
    return Handshake(
        completed=False,
        hello_sent=True,
        failure=f"SSL: TLSV1_ALERT; server alert {alert}",
        alert=alert,
        server_bytes=len(alert_record),
    )


def no_control() -> Handshake:
    raise AssertionError("the server's own alert is proof enough: no control handshake may be needed")


def test_recorded_alerts_parse() -> None:
    assert wire.first_alert(PROTOCOL_VERSION_ALERT) == "protocol_version(70)"
    assert wire.first_alert(HANDSHAKE_FAILURE_ALERT) == "handshake_failure(40)"


@pytest.mark.parametrize("record", [PROTOCOL_VERSION_ALERT, HANDSHAKE_FAILURE_ALERT])
def test_a_refusal_alert_is_a_pass(record: bytes) -> None:
    status, message, evidence = tls.judge_refusal(refused_with(record), "TLSv1", no_control)
    assert status is Status.PASS, message
    assert "alert" in message and evidence["server_alert"] == wire.first_alert(record)


def test_closed_without_alert_and_a_working_control_is_refused() -> None:
    status, message, evidence = tls.judge_refusal(CLOSED, "TLSv1", lambda: OK_CONTROL)
    assert status is Status.PASS, message
    assert "control handshake at TLSv1.3" in message
    assert isinstance(evidence["control_handshake"], dict) and evidence["control_handshake"]["handshake"] == "completed"


def test_closed_without_alert_and_a_failing_control_is_error() -> None:
    """A relay in front of a dead HTTPS service: accepts, closes, and the control handshake fails too."""
    status, message, _ = tls.judge_refusal(CLOSED, "TLSv1", lambda: FAILED_CONTROL)
    assert status is Status.ERROR, message
    assert "not shown alive" in message


def test_other_alerts_need_the_control_too() -> None:
    status, _, _ = tls.judge_refusal(refused_with(INTERNAL_ERROR_ALERT), "TLSv1", lambda: FAILED_CONTROL)
    assert status is Status.ERROR


def test_an_exception_in_the_control_is_error() -> None:
    def broken() -> Handshake:
        raise tls.TlsConnectError("no TCP connection to 127.0.0.1:443: Connection refused")

    status, message, evidence = tls.judge_refusal(CLOSED, "anonymous DH", broken)
    assert status is Status.ERROR
    assert "Connection refused" in message and "TlsConnectError" in str(evidence["control_handshake"])


def test_an_exception_inside_a_probe_is_error_never_fail() -> None:
    with probe("pki.tls10-refused", "mgr") as p:
        p.log("offer only TLSv1")
        raise RuntimeError("the probe itself broke")
    assert p.result.status is Status.ERROR


def test_acceptance_and_refusal_are_fail_only_with_evidence() -> None:
    accepted = Handshake(completed=True, protocol="TLSv1", cipher="ECDHE-RSA-AES128-SHA", hello_sent=True)
    assert tls.judge_refusal(accepted, "TLSv1", no_control)[0] is Status.FAIL
    chose = Handshake(completed=False, hello_sent=True, server_hello_version="TLSv1", failure="cert verify failed")
    assert tls.judge_refusal(chose, "TLSv1", no_control)[0] is Status.FAIL
    unsent = Handshake(completed=False, hello_sent=False, failure="no protocols available")
    assert tls.judge_refusal(unsent, "TLSv1", no_control)[0] is Status.ERROR
    for hs, want in (
        (CLOSED, Status.ERROR),
        (refused_with(PROTOCOL_VERSION_ALERT), Status.FAIL),
        (OK_CONTROL, Status.FAIL),
        (OK_CONTROL.__class__(**{**OK_CONTROL.__dict__, "protocol": "TLSv1.2"}), Status.PASS),
    ):
        with probe("pki.tls12-accepted", "mgr") as p:
            tls.judge_acceptance(p, hs, "TLSv1.2")
        assert p.result.status is want, (hs, p.result.message)


def test_a_server_hello_to_an_anonymous_only_offer_is_acceptance() -> None:
    """Only aNULL suites were offered: a ServerHello means the server chose one, even if our side aborted."""
    hello = Handshake(completed=False, hello_sent=True, server_hello_version="TLSv1.2", failure="SSL: whatever")
    assert tls.judge_refusal(hello, "anonymous DH", no_control)[0] is Status.FAIL
    other_version = Handshake(completed=False, hello_sent=True, server_hello_version="TLSv1.2", failure="x")
    assert tls.judge_refusal(other_version, "TLSv1", no_control)[0] is Status.PASS
