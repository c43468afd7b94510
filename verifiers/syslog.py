"""Remote syslog: an auditable event caused now reaches every configured receiver, in RFC 5424 form.

The caller passes two things, so this probe works against the lab receiver and a real one alike:

* ``cause_event(marker)``: makes the system under test emit an auditable event that carries
  ``marker`` (e.g. a failed login as a user named after it, or an API change whose name is it);
* ``receivers``: per receiver name, how to read what it got: a file path, or a callable returning
  the text received so far.

The probe waits (up to ``within_s``) until a line with the marker shows up at every receiver, then
checks each such line against the RFC 5424 header grammar. A receiver that never sees the marker is
FAIL; a malformed line is FAIL when ``require_rfc5424``; an exception from ``cause_event`` is ERROR.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from securemode.results import JsonValue, Probe, Result, probe

Reader = Callable[[], str] | Path | str
"""What a receiver got so far: a callable returning the text, or the path of a file it writes."""

_PRINTUSASCII = re.compile(r"^[\x21-\x7e]+$")
_TIMESTAMP = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_SD_NAME = re.compile(r"[\x21-\x7e]{1,32}")
_FIELD_LIMITS = (("HOSTNAME", 255), ("APP-NAME", 48), ("PROCID", 128), ("MSGID", 32))
_MAX_EVIDENCE = 400
_POLL_S = 0.05


def new_marker() -> str:
    """A unique, log-safe token to find one event among all others."""
    return f"securemode-probe-{uuid.uuid4().hex[:20]}"


def rfc5424_problems(line: str) -> list[str]:
    """What makes ``line`` not an RFC 5424 syslog message (empty when it is one).

    Checks PRI (0-191), VERSION 1, TIMESTAMP (RFC 3339 profile or '-'), the lengths and characters of
    HOSTNAME, APP-NAME, PROCID and MSGID, and the STRUCTURED-DATA syntax.
    """
    m = re.match(r"^<(\d{1,3})>(\d{1,2}) ", line)
    if not m:
        return ["no '<PRI>VERSION ' prefix"]
    problems: list[str] = []
    if int(m.group(1)) > 191:
        problems.append(f"PRI {m.group(1)} > 191")
    if m.group(2) != "1":
        problems.append(f"VERSION {m.group(2)} is not 1")
    fields = line[m.end() :].split(" ", 5)
    if len(fields) < 6:
        return [*problems, "header has fewer than TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA"]
    timestamp, *names, rest = fields
    if timestamp != "-" and not _TIMESTAMP.match(timestamp):
        problems.append(f"TIMESTAMP {timestamp!r} is not RFC 3339")
    for (label, limit), value in zip(_FIELD_LIMITS, names, strict=True):
        if value != "-" and (len(value) > limit or not _PRINTUSASCII.match(value)):
            problems.append(f"{label} {value[:40]!r} is not 1-{limit} printable ASCII characters")
    sd_problem, after_sd = _structured_data(rest)
    if sd_problem:
        problems.append(sd_problem)
    elif after_sd and not after_sd.startswith(" "):
        problems.append("no space between STRUCTURED-DATA and MSG")
    return problems


def _structured_data(text: str) -> tuple[str, str]:
    """Parse STRUCTURED-DATA at the start of ``text``: (problem or '', the rest after it)."""
    if text.startswith("-"):
        return "", text[1:]
    if not text.startswith("["):
        return "STRUCTURED-DATA is neither '-' nor '[...]'", text
    i = 0
    while i < len(text) and text[i] == "[":
        m = _SD_NAME.match(text, i + 1)
        if not m or any(c in m.group(0) for c in '= ]"'):
            return "bad SD-ID", text
        i = m.end()
        while i < len(text) and text[i] == " ":
            pm = re.compile(r'([^= \]"]{1,32})="').match(text, i + 1)
            if not pm:
                return "bad SD-PARAM", text
            i = pm.end()
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= len(text):
                return "unterminated SD-PARAM value", text
            i += 1
        if i >= len(text) or text[i] != "]":
            return "SD-ELEMENT not closed by ']'", text
        i += 1
    return "", text[i:]


def check_event_reaches_receivers(
    control: str,
    target: str,
    *,
    cause_event: Callable[[str], object],
    receivers: Mapping[str, Reader],
    within_s: float = 5.0,
    require_rfc5424: bool = True,
    send_control: Mapping[str, Callable[[str], object]] | None = None,
) -> Result:
    """Cause one event carrying a fresh marker; PASS when every receiver got it within ``within_s``.

    A receiver that did not get it is a FAIL only when it is shown alive: ``send_control[name]`` sends
    a control message with another marker straight to it, and that one arrives. Without that proof a
    missing event is ERROR — a dead receiver gets nothing either.
    """
    expected = f"event at {', '.join(receivers)} within {within_s:g}s" + (" in RFC 5424" if require_rfc5424 else "")
    with probe(control, target, expected=expected) as p:
        if not receivers:
            p.error("no syslog receivers configured to check")
        else:
            marker = new_marker()
            p.log(f"causing an auditable event with marker {marker}")
            t0 = time.monotonic()
            cause_event(marker)
            arrived = _wait_for_marker(p, marker, receivers, t0 + within_s)
            missing = {n: r for n, r in receivers.items() if n not in arrived}
            dead = _not_shown_alive(p, missing, send_control or {}, within_s)
            if dead:
                p.error(f"the event did not reach {', '.join(dead)}, and a control message sent straight to it "
                        "did not arrive either: the receiver is not shown alive", {n: "not shown alive" for n in dead})
            else:
                _judge(p, receivers, arrived, t0, require_rfc5424, within_s)
    return p.result


def _not_shown_alive(p: Probe, missing: Mapping[str, Reader], send_control: Mapping[str, Callable[[str], object]],
                     within_s: float) -> list[str]:
    """The receivers among ``missing`` that do not record a control message sent straight to them."""
    dead: list[str] = []
    for name, reader in missing.items():
        sender = send_control.get(name)
        if sender is None:
            p.log(f"{name}: no way to send it a control message")
            dead.append(name)
            continue
        control_marker = new_marker()
        try:
            sender(control_marker)
        except OSError as exc:
            p.log(f"{name}: control message not sent: {exc.strerror or exc}")
            dead.append(name)
            continue
        if _wait_for_marker(p, control_marker, {name: reader}, time.monotonic() + within_s):
            p.log(f"{name}: a control message sent straight to it arrived: the receiver is alive")
        else:
            dead.append(name)
    return dead


def send_syslog(address: str, port: int, transport: str, ca_file: str | None = None,
                timeout: float = 3.0) -> Callable[[str], None]:
    """A sender of one RFC 5424 message carrying a marker, over ``transport`` (udp, tcp, tls)."""

    def send(marker: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = f"<14>1 {stamp} securemode-verifier securemode - control - liveness {marker}".encode()
        if transport == "udp":
            with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(line, (address, port))
            return
        with socket.create_connection((address, port), timeout=timeout) as raw:
            framed = str(len(line)).encode() + b" " + line  # RFC 6587 octet counting
            if transport == "tls":
                ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
                ctx.check_hostname = False
                with ctx.wrap_socket(raw, server_hostname=address) as tls_sock:
                    tls_sock.sendall(framed)
                    with contextlib.suppress(OSError):
                        tls_sock.unwrap()  # close_notify: a receiver may drop data of an unclean close
            else:
                raw.sendall(framed)

    return send


def _read(reader: Reader) -> str:
    if callable(reader):
        return reader()
    try:
        return Path(reader).read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _wait_for_marker(
    p: Probe, marker: str, receivers: Mapping[str, Reader], deadline: float
) -> dict[str, tuple[str, float]]:
    """Poll every receiver until each has a line with ``marker`` or the deadline passes."""
    arrived: dict[str, tuple[str, float]] = {}
    while True:
        for name, reader in receivers.items():
            if name in arrived:
                continue
            line = next((ln for ln in _read(reader).splitlines() if marker in ln), None)
            if line is not None:
                arrived[name] = (line, time.monotonic())
                p.log(f"{name}: marker arrived")
        if len(arrived) == len(receivers) or time.monotonic() > deadline:
            return arrived
        time.sleep(_POLL_S)


def _judge(
    p: Probe,
    receivers: Mapping[str, Reader],
    arrived: Mapping[str, tuple[str, float]],
    t0: float,
    require_rfc5424: bool,
    within_s: float,
) -> None:
    observed: dict[str, JsonValue] = {}
    problems: list[str] = []
    for name in receivers:
        if name not in arrived:
            p.log(f"{name}: marker not seen within {within_s:g}s")
            observed[name] = {"arrived": False}
            problems.append(f"{name}: event not received within {within_s:g}s")
            continue
        line, at = arrived[name]
        format_problems = rfc5424_problems(line)
        observed[name] = {
            "arrived": True,
            "after_s": round(at - t0, 3),
            "line": line[:_MAX_EVIDENCE],
            "rfc5424": "ok" if not format_problems else "; ".join(format_problems),
        }
        if format_problems:
            p.log(f"{name}: not RFC 5424: {'; '.join(format_problems)}")
            if require_rfc5424:
                problems.append(f"{name}: not RFC 5424 ({'; '.join(format_problems)})")
    p.check(not problems, observed, "; ".join(problems))
