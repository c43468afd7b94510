"""TLS wire parsing and the refusal judge on bytes recorded from real handshakes (CPU only, no network).

The ServerHello records were captured from an OpenSSL 3 server answering this package's own clients;
the verdicts below are what the probes decide when they see exactly those bytes.
"""

from __future__ import annotations

import pytest

from securemode.results import Status, probe
from securemode.verifiers.tls import Handshake, judge_acceptance, judge_refusal, wire

# Our TLS 1.0-only ClientHello (version_context(TLS1_0)), as it left the socket.
CLIENT_HELLO_TLS10 = bytes.fromhex(
    "160301007f0100007b0301b909af9352b6f7230f7e1297268e67f02551d9ebf80f22cb8e6956c366012d3000002ec00ac014003900"
    "3800880087c019003a0089c009c0130033003200450044c0180034004600350084002f004100ff01000024000b000403000102000a00"
    "0c000a001d0017001e00190018002300000016000000170000"
)
# A client's own fatal alert (what a stack that gives up before hello sends): no ClientHello in it.
CLIENT_ALERT_ONLY = bytes.fromhex("15030100020228")
# ServerHello records: TLS 1.0 chosen (with the DOWNGRD sentinel), TLS 1.2, and TLS 1.3 (legacy 0x0303 in
# the header, the real version in the supported_versions extension).
SERVER_HELLO_TLS10 = bytes.fromhex(
    "160301004502000041030125d98288aac15df52b2b15ebb8c265ccab39f7499b8852ff444f574e4752440000c014000019ff0100010000"
    "0b000403000102002300000016000000170000"
)
SERVER_HELLO_TLS12 = bytes.fromhex(
    "16030300410200003d0303164114f1147f20572e770d9e65f442ccad79b03a7957e3b8444f574e4752440100c030000015ff0100010000"
    "0b0004030001020023000000170000"
)
SERVER_HELLO_TLS13 = bytes.fromhex(
    "160303007a020000760303e1abe20f98a10606959dcfe6206070deb9d0ce81e032642021f3b6abfcedf6592008e50f8cb7ed648b6068"
    "371ebad2a88bbc59f8eccd2b9ccc0044225025cef99d130200002e002b0002030400330024001d00208b48e0fc34679b8ac40dbca5f7"
    "2602a9427d5753ea6b9f79241e83c7d872b65e"
)
PROTOCOL_VERSION_ALERT = bytes.fromhex("15030100020246")
CHANGE_CIPHER_SPEC = bytes.fromhex("140303000101")


def never_called() -> Handshake:
    raise AssertionError("the recorded bytes are proof enough: no control handshake may be needed")


@pytest.mark.parametrize(
    ("received", "version"),
    [(SERVER_HELLO_TLS10, "TLSv1"), (SERVER_HELLO_TLS12, "TLSv1.2"), (SERVER_HELLO_TLS13, "TLSv1.3")],
)
def test_server_hello_version_from_recorded_bytes(received: bytes, version: str) -> None:
    assert wire.server_hello_version(received) == version
    assert wire.server_hello_version(received + CHANGE_CIPHER_SPEC) == version  # later records do not matter


def test_partial_or_foreign_bytes_are_no_server_hello() -> None:
    assert wire.server_hello_version(SERVER_HELLO_TLS12[:40]) is None  # cut inside the record
    assert wire.server_hello_version(b"SIP/2.0 400 Bad Request\r\n\r\n") is None
    assert wire.server_hello_version(PROTOCOL_VERSION_ALERT) is None
    assert wire.server_hello_version(CLIENT_HELLO_TLS10) is None  # a ClientHello is not a ServerHello


def test_client_hello_detection() -> None:
    assert wire.has_client_hello(CLIENT_HELLO_TLS10)
    assert not wire.has_client_hello(CLIENT_ALERT_ONLY)
    assert not wire.has_client_hello(b"")
    assert not wire.has_client_hello(CLIENT_HELLO_TLS10[:60])  # never fully written


def test_alerts_by_name() -> None:
    assert wire.first_alert(PROTOCOL_VERSION_ALERT) == "protocol_version(70)"
    assert wire.first_alert(SERVER_HELLO_TLS12 + bytes.fromhex("15030300020250")) == "internal_error(80)"
    assert wire.first_alert(bytes.fromhex("150303000202fe")) == "alert(254)"
    assert wire.first_alert(SERVER_HELLO_TLS12) is None
    assert wire.alert_name("handshake_failure(40)") == "handshake_failure"


def test_a_tls10_server_hello_is_acceptance_even_when_our_side_aborts() -> None:
    hs = Handshake.from_wire(CLIENT_HELLO_TLS10, SERVER_HELLO_TLS10, "certificate verification failed")
    assert hs.hello_sent and hs.server_hello_version == "TLSv1" and not hs.completed
    status, message, _ = judge_refusal(hs, "TLSv1", never_called)
    assert status is Status.FAIL and "ServerHello" in message


def test_a_server_hello_at_another_version_is_a_refusal() -> None:
    hs = Handshake.from_wire(CLIENT_HELLO_TLS10, SERVER_HELLO_TLS12, "SSL: UNSUPPORTED_PROTOCOL")
    status, message, _ = judge_refusal(hs, "TLSv1", never_called)
    assert status is Status.PASS and message == "TLSv1 refused (ServerHello at TLSv1.2)"


def test_a_recorded_protocol_version_alert_is_a_refusal() -> None:
    hs = Handshake.from_wire(CLIENT_HELLO_TLS10, PROTOCOL_VERSION_ALERT, "SSL: TLSV1_ALERT_PROTOCOL_VERSION")
    assert hs.failure == "SSL: TLSV1_ALERT_PROTOCOL_VERSION; server alert protocol_version(70)"
    status, message, evidence = judge_refusal(hs, "TLSv1", never_called)
    assert status is Status.PASS and evidence["server_alert"] == "protocol_version(70)", message


def test_nothing_sent_is_error_whatever_came_back() -> None:
    hs = Handshake.from_wire(CLIENT_ALERT_ONLY, b"", "no protocols available")
    assert judge_refusal(hs, "TLSv1", never_called)[0] is Status.ERROR


def test_a_closed_connection_needs_the_control_handshake() -> None:
    closed = Handshake.from_wire(CLIENT_HELLO_TLS10, b"", "server closed the connection")
    alive = Handshake.from_wire(CLIENT_HELLO_TLS10, SERVER_HELLO_TLS13, None, protocol="TLSv1.3")
    dead = Handshake.from_wire(CLIENT_HELLO_TLS10, b"", "server closed the connection")
    assert judge_refusal(closed, "TLSv1", lambda: alive)[0] is Status.PASS
    assert judge_refusal(closed, "TLSv1", lambda: dead)[0] is Status.ERROR
    silent = Handshake.from_wire(CLIENT_HELLO_TLS10, b"", "no answer within 3.0s")
    assert judge_refusal(silent, "TLSv1", never_called)[0] is Status.ERROR


@pytest.mark.parametrize(
    ("received", "failure", "want"),
    [
        (SERVER_HELLO_TLS12, None, Status.PASS),  # negotiated TLS 1.2
        (PROTOCOL_VERSION_ALERT, "SSL: TLSV1_ALERT_PROTOCOL_VERSION", Status.FAIL),  # alive, said no
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "SSL: WRONG_VERSION_NUMBER", Status.FAIL),  # alive, not TLS
        (b"", "server closed the connection", Status.ERROR),  # not shown alive
    ],
)
def test_acceptance_on_recorded_answers(received: bytes, failure: str | None, want: Status) -> None:
    hs = Handshake.from_wire(CLIENT_HELLO_TLS10, received, failure, protocol="TLSv1.2" if failure is None else None)
    with probe("pki.tls12-accepted", "conf01") as p:
        judge_acceptance(p, hs, "TLSv1.2")
    assert p.result.status is want, p.result.message
