"""securemode.verifiers.syslog against the real rsyslog receiver: an event must reach every receiver, in RFC 5424."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from securemode.infra.pki.ca import LabCA
from securemode.infra.services import rsyslog
from securemode.results import Status
from securemode.verifiers.syslog import Reader, check_event_reaches_receivers, rfc5424_problems, send_syslog

CONTROL = "platform.syslog.remote"


def rfc5424(marker: str) -> bytes:
    ts = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f'<110>1 {ts} mgr.lab.securemode.test pexip 4242 AUDIT [meta@32473 who="admin"] login {marker}'.encode()


def rfc3164(marker: str) -> bytes:
    return f"<110>Jan  1 00:00:00 mgr pexip[4242]: login {marker}".encode()


def sender(
    h: rsyslog.RsyslogHandle, transports: list[str], fmt: Callable[[str], bytes] = rfc5424
) -> Callable[[str], None]:
    """What a node configured with these remote syslog servers does when an auditable event happens."""

    def send(marker: str) -> None:
        msg = fmt(marker)
        for transport in transports:
            host, port = h.endpoints[transport]
            if transport == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.sendto(msg, (host, port))
            elif transport == "tcp":
                with socket.create_connection((host, port), timeout=2) as s:
                    s.sendall(msg + b"\n")
            else:
                ctx = ssl.create_default_context(cafile=str(h.ca_file))
                with (
                    socket.create_connection((host, port), timeout=2) as raw,
                    ctx.wrap_socket(raw, server_hostname=host) as tls,
                ):
                    tls.sendall(str(len(msg)).encode() + b" " + msg)
                    tls.unwrap()

    return send


def test_event_reaches_every_transport(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    receivers: dict[str, Reader] = {t: syslog_receiver.received[t] for t in ("udp", "tcp", "tls")}
    r = check_event_reaches_receivers(
        CONTROL, "mgr", cause_event=sender(syslog_receiver, ["udp", "tcp", "tls"]), receivers=receivers, within_s=3
    )
    assert r.status is Status.PASS, r.message
    assert isinstance(r.observed, dict)
    for t in receivers:
        facts = r.observed[t]
        assert isinstance(facts, dict) and facts["arrived"] is True and facts["rfc5424"] == "ok"
        assert 0 <= float(str(facts["after_s"])) < 3


def test_callable_reader_works(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    r = check_event_reaches_receivers(
        CONTROL,
        "mgr",
        cause_event=sender(syslog_receiver, ["tls"]),
        receivers={"tls": lambda: syslog_receiver.read("tls")},
        within_s=3,
    )
    assert r.status is Status.PASS, r.message


def test_stopped_receiver_is_error(tmp_path: Path, lab_ca: LabCA, syslog_receiver: rsyslog.RsyslogHandle) -> None:
    """A dead receiver gets nothing, whatever the node does: not shown alive, so ERROR, never FAIL."""
    second = rsyslog.start(tmp_path / "second", lab_ca, "127.0.0.12", transports=["udp"])
    second.stop()

    def both(marker: str) -> None:
        sender(syslog_receiver, ["udp"])(marker)
        sender(second, ["udp"])(marker)  # UDP to a stopped receiver: silently lost

    host, port = second.endpoints["udp"]
    r = check_event_reaches_receivers(
        CONTROL,
        "mgr",
        cause_event=both,
        within_s=0.5,
        receivers={"first": syslog_receiver.received["udp"], "second": second.received["udp"]},
        send_control={"second": send_syslog(host, port, "udp")},
    )
    assert r.status is Status.ERROR, r
    assert "second" in r.message and "not shown alive" in r.message


def test_live_receiver_that_misses_the_event_fails(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    """The receiver is alive (a control message sent straight to it arrives), the event never came: FAIL."""
    r = check_event_reaches_receivers(
        CONTROL,
        "mgr",
        cause_event=lambda marker: None,  # the node forwards nothing
        within_s=0.5,
        receivers={"udp": syslog_receiver.received["udp"], "tcp": syslog_receiver.received["tcp"]},
        send_control={t: send_syslog(*syslog_receiver.endpoints[t], t) for t in ("udp", "tcp")},
    )
    assert r.status is Status.FAIL, r
    assert r.message == "udp: event not received within 0.5s; tcp: event not received within 0.5s"
    assert any("control message sent straight to it arrived" in line for line in r.transcript)


def test_rfc3164_message_fails_the_format_check(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    kwargs = {
        "cause_event": sender(syslog_receiver, ["udp"], rfc3164),
        "receivers": {"udp": syslog_receiver.received["udp"]},
        "within_s": 3.0,
    }
    strict = check_event_reaches_receivers(CONTROL, "mgr", **kwargs)  # type: ignore[arg-type]
    assert strict.status is Status.FAIL
    assert "not RFC 5424" in strict.message
    lenient = check_event_reaches_receivers(CONTROL, "mgr", require_rfc5424=False, **kwargs)  # type: ignore[arg-type]
    assert lenient.status is Status.PASS


def test_failing_trigger_is_error(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    def broken(marker: str) -> None:
        raise ConnectionError("management API unreachable")

    r = check_event_reaches_receivers(
        CONTROL, "mgr", cause_event=broken, receivers={"udp": syslog_receiver.received["udp"]}
    )
    assert r.status is Status.ERROR
    assert "management API unreachable" in r.message


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" '
            'eventSource="Application" eventID="1011"] An application event',
            None,
        ),
        ("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - It's time to make the do-nuts.", None),
        ("<13>1 - - - - - -", None),
        ("<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "no '<PRI>VERSION ' prefix"),
        ("<200>1 - - - - - -", "PRI 200 > 191"),
        ("<13>2 - - - - - -", "VERSION 2 is not 1"),
        ("<13>1 2003-10-11 22:14:15 host app - - - msg", "TIMESTAMP"),
        ("<13>1 - h " + "a" * 49 + " - - - msg", "APP-NAME"),
        ('<13>1 - h a - - [x a="b] msg', "unterminated"),
        ('<13>1 - h a - - [x a="b"]msg', "no space"),
        ("<13>1 - h a - - msg", "STRUCTURED-DATA"),
    ],
)
def test_rfc5424_grammar(line: str, problem: str | None) -> None:
    problems = rfc5424_problems(line)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
