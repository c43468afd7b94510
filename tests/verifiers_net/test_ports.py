"""Port verifiers: open / refused on loopback; drop vs. reject observed for real inside a netns."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.netns import NetNamespace, netns_unavailable_reason
from securemode.infra.nodes import ClosedPortPolicy, ClosedPortSettings
from securemode.infra.pki.ca import IssuedCertificate
from securemode.results import Status
from securemode.verifiers import ports
from securemode.verifiers.port_sweep import PortSpec, sweep
from securemode.verifiers.ports import PortState

HOST = "127.0.0.1"
TIMEOUT = 0.3
REASON = netns_unavailable_reason()


def serve_tls(server: socket.socket, cert: IssuedCertificate) -> threading.Event:
    """Answer TLS on ``server`` (a node's HTTPS, the closed-port checks' reference) until the event is set."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.fullchain_path, cert.key_path)
    server.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(OSError), conn:
                conn.settimeout(2)
                with ctx.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.recv(1)

    threading.Thread(target=loop, daemon=True).start()
    return stop


@pytest.fixture
def listening(good_cert: IssuedCertificate) -> Iterator[int]:
    with socket.create_server((HOST, 0)) as server:
        stop = serve_tls(server, good_cert)
        yield int(server.getsockname()[1])
        stop.set()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def test_probe_states_on_loopback(listening: int) -> None:
    assert ports.probe_tcp(HOST, listening, TIMEOUT).state is PortState.OPEN
    refused = ports.probe_tcp(HOST, closed_port(), TIMEOUT)
    assert refused.state is PortState.REFUSED and refused.elapsed_s < 0.1
    assert ports.probe_udp(HOST, closed_port(), timeout=TIMEOUT).state is PortState.REFUSED


def test_port_closed_check(listening: int) -> None:
    open_result = ports.check_port_closed("ssh.closed", "mgr", Endpoint(HOST, listening, timeout_s=TIMEOUT))
    assert open_result.status is Status.FAIL
    assert isinstance(open_result.observed, dict) and open_result.observed["state"] == "open"
    closed = ports.check_port_closed("ssh.closed", "mgr", Endpoint(HOST, closed_port(), timeout_s=TIMEOUT))
    assert closed.status is Status.PASS


def test_drop_check_without_firewall(listening: int) -> None:
    """On plain loopback a closed port is rejected, so the drop check fails and the reject check passes."""
    port = closed_port()
    drop = ports.check_closed_port_drops(
        "net.drop", "mgr", Endpoint(HOST, port, timeout_s=TIMEOUT), Endpoint(HOST, listening)
    )
    assert drop.status is Status.FAIL and "ECONNREFUSED" in drop.message
    reject = ports.check_closed_port_behaviour(
        "net.reject", "mgr", Endpoint(HOST, port, timeout_s=TIMEOUT), False, Endpoint(HOST, listening)
    )
    assert reject.status is Status.PASS
    dead_reference = ports.check_closed_port_drops(
        "net.drop", "mgr", Endpoint(HOST, port, timeout_s=TIMEOUT), Endpoint(HOST, closed_port())
    )
    assert dead_reference.status is Status.ERROR
    not_closed = ports.check_closed_port_drops("net.drop", "mgr", Endpoint(HOST, listening, timeout_s=TIMEOUT), None)
    assert not_closed.status is Status.ERROR


def test_a_reference_that_only_accepts_tcp_is_not_a_live_host() -> None:
    """A relay in front of a dead HTTPS service accepts TCP and closes: that shows no host alive, so a
    silent closed port cannot be blamed on the drop policy (ERROR, never PASS)."""
    with socket.create_server((HOST, 0)) as relay:
        port = int(relay.getsockname()[1])
        relay.settimeout(0.1)
        stop = threading.Event()

        def accept_and_close() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    relay.accept()[0].close()

        threading.Thread(target=accept_and_close, daemon=True).start()
        try:
            for expect_drop in (True, False):
                closed = Endpoint(HOST, closed_port(), timeout_s=TIMEOUT)
                result = ports.check_closed_port_behaviour("net.drop", "mgr", closed, expect_drop, Endpoint(HOST, port))
                assert result.status is Status.ERROR, result
        finally:
            stop.set()


@pytest.fixture
def firewalled_node(good_cert: IssuedCertificate) -> Iterator[tuple[NetNamespace, ClosedPortPolicy, int]]:
    """A namespace with an HTTPS (TLS) listener on tcp/443 and the closed-port policy in drop mode."""
    with NetNamespace() as ns:
        server = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind((ns.address, 443))
        server.listen()
        stop = serve_tls(server, good_cert)
        policy = ClosedPortPolicy(ns, ClosedPortSettings(drop_closed_ports=True, open_tcp_ports=frozenset({443})))
        policy.start()
        try:
            yield ns, policy, 443
        finally:
            stop.set()
            server.close()
    assert not ns.exists()


@pytest.mark.skipif(REASON is not None, reason=f"netns unavailable: {REASON}")
def test_drop_vs_reject_observed_in_netns(firewalled_node: tuple[NetNamespace, ClosedPortPolicy, int]) -> None:
    ns, policy, open_port = firewalled_node
    drop = ports.check_closed_port_drops(
        "net.drop", "mgr", Endpoint(ns.address, 22, timeout_s=TIMEOUT), Endpoint(ns.address, open_port)
    )
    assert drop.status is Status.PASS, drop
    assert isinstance(drop.observed, dict) and drop.observed["closed"]["state"] == "filtered"
    closed = ports.check_port_closed("ssh.closed", "mgr", Endpoint(ns.address, 22, timeout_s=TIMEOUT))
    assert closed.status is Status.PASS

    policy.reconfigure(ClosedPortSettings(drop_closed_ports=False, open_tcp_ports=frozenset({open_port})))
    rejected = ports.check_closed_port_drops(
        "net.drop", "mgr", Endpoint(ns.address, 22, timeout_s=TIMEOUT), Endpoint(ns.address, open_port)
    )
    assert rejected.status is Status.FAIL and "ECONNREFUSED" in rejected.message
    assert ports.check_closed_port_behaviour(
        "net.rej", "mgr", Endpoint(ns.address, 22, timeout_s=TIMEOUT), False, Endpoint(ns.address, open_port)
    ).status is (Status.PASS)


def _one_by_one(host: str, specs: list[PortSpec]) -> list[PortState]:
    return [(ports.probe_tcp(host, s.port, TIMEOUT) if s.protocol == "tcp"
             else ports.probe_udp(host, s.port, s.payload, TIMEOUT)).state for s in specs]


def test_sweep_sees_what_one_probe_at_a_time_sees_on_loopback(listening: int) -> None:
    """The port scan's one-selector sweep gives each port the state its own probe gives: open, refused
    (TCP RST, UDP ICMP port-unreachable) and a UDP answer, in the order asked."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as echo:
        echo.bind((HOST, 0))
        stop = threading.Event()

        def answer() -> None:
            echo.settimeout(0.05)
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    data, peer = echo.recvfrom(2048)
                    echo.sendto(data, peer)

        threading.Thread(target=answer, daemon=True).start()
        try:
            specs = [PortSpec("tcp", listening), PortSpec("tcp", closed_port()), PortSpec("udp", closed_port()),
                     PortSpec("udp", int(echo.getsockname()[1]), b"ping")]
            swept = sweep(HOST, specs, TIMEOUT)
            assert [p.state for p in swept] == [PortState.OPEN, PortState.REFUSED, PortState.REFUSED, PortState.OPEN]
            assert [p.state for p in swept] == _one_by_one(HOST, specs)
            assert [(p.protocol, p.port) for p in swept] == [(s.protocol, s.port) for s in specs]
        finally:
            stop.set()


@pytest.mark.skipif(REASON is not None, reason=f"netns unavailable: {REASON}")
def test_sweep_sees_drops_as_filtered_in_netns(firewalled_node: tuple[NetNamespace, ClosedPortPolicy, int]) -> None:
    """Behind the drop policy a closed TCP port is silent for the whole timeout: FILTERED, as one probe at a
    time sees it; the open port still connects in the same sweep, and a UDP port shows what its own probe shows."""
    ns, _policy, open_port = firewalled_node
    specs = [PortSpec("tcp", open_port), PortSpec("tcp", 22), PortSpec("udp", 161, b"\0")]
    swept = sweep(ns.address, specs, TIMEOUT)
    assert [p.state for p in swept[:2]] == [PortState.OPEN, PortState.FILTERED]
    assert [p.state for p in swept] == _one_by_one(ns.address, specs)
    assert swept[1].elapsed_s >= TIMEOUT * 0.9, swept
