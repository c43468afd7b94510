"""Port probes as an outside client sees them: open, refused (RST / ICMP), or filtered (silence).

A TCP connect that completes is OPEN; ECONNREFUSED (a RST or an ICMP port-unreachable, which look
the same to ``connect``) is REFUSED; no answer before the timeout is FILTERED; EHOSTUNREACH /
ENETUNREACH (an ICMP admin-prohibited reject, or no route) is UNREACHABLE. Each probe records how
long the answer took, which is the evidence that tells a drop (a full timeout) from a reject (< 1 ms
on a LAN).
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers import tls

DEFAULT_TIMEOUT_S = 1.0


class PortState(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class PortProbe:
    """One probe of one port, with timing."""

    host: str
    port: int
    protocol: str
    state: PortState
    elapsed_s: float
    detail: str = ""

    def evidence(self) -> dict[str, JsonValue]:
        return {
            "port": f"{self.protocol}/{self.port}",
            "state": self.state.value,
            "elapsed_ms": round(self.elapsed_s * 1000, 2),
            "detail": self.detail,
        }

    def line(self) -> str:
        ms = self.elapsed_s * 1000
        return f"{self.protocol}/{self.port} on {self.host}: {self.state.value} in {ms:.2f} ms {self.detail}"


UNREACHABLE_ERRNOS = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES)


def address_family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _unreachable(exc: OSError) -> str:
    """The errno name of an ICMP admin-prohibited reject or a missing route; any other error is raised."""
    if exc.errno not in UNREACHABLE_ERRNOS:
        raise exc
    return errno.errorcode.get(exc.errno or 0, str(exc))


def _outcome(attempt: Callable[[], object], answered: str, silent: str, refused: str) -> tuple[PortState, str]:
    """The port state one ``attempt`` (a connect, or a datagram and its answer) shows, with a detail."""
    try:
        attempt()
    except TimeoutError:
        return PortState.FILTERED, silent
    except ConnectionRefusedError:
        return PortState.REFUSED, refused
    except OSError as exc:
        return PortState.UNREACHABLE, _unreachable(exc)
    return PortState.OPEN, answered


def probe_tcp(host: str, port: int, timeout: float = DEFAULT_TIMEOUT_S) -> PortProbe:
    """Try one TCP connect (read-only: the connection is closed at once if it opens)."""
    sock = socket.socket(address_family(host), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    t0 = time.perf_counter()
    try:
        state, detail = _outcome(
            lambda: sock.connect((host, port)),
            "connected",
            f"no answer within {timeout}s",
            "ECONNREFUSED (RST or ICMP port-unreachable)",
        )
    finally:
        elapsed = time.perf_counter() - t0
        sock.close()
    return PortProbe(host, port, "tcp", state, elapsed, detail)


def probe_udp(host: str, port: int, payload: bytes = b"\0", timeout: float = DEFAULT_TIMEOUT_S) -> PortProbe:
    """Send one datagram on a connected socket: REFUSED on ICMP port-unreachable, else FILTERED/OPEN.

    Silence means "dropped or a service that ignored us"; UDP cannot tell those apart.
    """
    with socket.socket(address_family(host), socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        t0 = time.perf_counter()
        state, detail = _outcome(
            lambda: (sock.send(payload), sock.recv(2048)),
            "answered",
            f"no answer within {timeout}s (dropped, or ignored by a service)",
            "ICMP port-unreachable",
        )
        elapsed = time.perf_counter() - t0
    return PortProbe(host, port, "udp", state, elapsed, detail)


def check_port_closed(control: str, target: str, endpoint: Endpoint) -> Result:
    """PASS when TCP ``endpoint.port`` does not accept connections (e.g. SSH 22 after the security wizard)."""
    port = endpoint.port
    with probe(control, target, expected=f"tcp/{port} not open") as p:
        result = probe_tcp(endpoint.host, port, endpoint.timeout(DEFAULT_TIMEOUT_S))
        p.log(result.line())
        p.check(result.state is not PortState.OPEN, result.evidence(), f"tcp/{port} accepts connections")
    return p.result


def check_closed_port_behaviour(
    control: str, target: str, closed: Endpoint, expect_drop: bool, reference: Endpoint | None = None
) -> Result:
    """PASS when the closed TCP port ``closed`` is dropped (``expect_drop``) or rejected (otherwise).

    With a ``reference`` (a TLS port of the same host, e.g. HTTPS 443) the host is first shown to be
    alive (a TLS handshake there completes: a bare TCP accept could be a relay in front of a dead
    service), so a timeout is attributed to the drop policy and not to a host that is down; without
    it, the transcript says the attribution is unproven.
    """
    want = "dropped (filtered)" if expect_drop else "rejected (refused)"
    with probe(control, target, expected=f"closed tcp/{closed.port} {want}") as p:
        _judge_closed_port(p, closed, expect_drop, reference)
    return p.result


def check_closed_port_drops(control: str, target: str, closed: Endpoint, reference: Endpoint | None = None) -> Result:
    """The guide's "drop incoming packets to closed ports rather than reject": a closed port is silent."""
    return check_closed_port_behaviour(control, target, closed, True, reference)


def _judge_closed_port(p: Probe, closed: Endpoint, expect_drop: bool, reference: Endpoint | None) -> None:
    timeout = closed.timeout(DEFAULT_TIMEOUT_S)
    observed: dict[str, JsonValue] = {}
    if reference is not None:
        ref = probe_tcp(reference.host, reference.port, reference.timeout(timeout))
        p.log(f"reference: {ref.line()}")
        observed["reference"] = ref.evidence()
        if ref.state is not PortState.OPEN:
            p.error(f"reference port tcp/{reference.port} is {ref.state.value}: host not shown alive", observed)
            return
        tls_timeout = max(reference.timeout(timeout), tls.DEFAULT_TIMEOUT_S)
        alive, why = tls.service_answers_tls(replace(reference, timeout_s=tls_timeout))
        p.log(f"reference: {why}")
        observed["reference_tls"] = why
        if not alive:
            p.error(
                f"reference port tcp/{reference.port} accepts TCP but its TLS service does not answer: "
                "host not shown alive",
                observed,
            )
            return
    else:
        p.log("no reference open port: a timeout cannot be told apart from a host that is down")
    result = probe_tcp(closed.host, closed.port, timeout)
    p.log(result.line())
    observed["closed"] = result.evidence()
    if result.state is PortState.OPEN:
        p.error(f"tcp/{closed.port} is open, so closed-port behaviour cannot be observed on it", observed)
    elif expect_drop:
        p.check(result.state is PortState.FILTERED, observed, f"closed port answered: {result.detail}")
    else:
        p.check(result.state is not PortState.FILTERED, observed, f"closed port silently dropped: {result.detail}")
