"""A twin node inside its own network namespace: services bound there, closed ports dropped or rejected
by nftables there, the root namespace's firewall untouched, everything gone after teardown."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from securemode.infra.netns import NetNamespace, NetnsUnavailable, netns_unavailable_reason
from securemode.infra.nodes import ClosedPortPolicy, ClosedPortSettings, SipListener, SipListenerSettings
from securemode.infra.nodes.closed_ports import render_ruleset
from securemode.verifiers.ports import PortState, probe_tcp, probe_udp

REASON = netns_unavailable_reason()
needs_netns = pytest.mark.skipif(REASON is not None, reason=f"netns unavailable: {REASON}")
PROBE_TIMEOUT = 0.3


def root_ruleset() -> str:
    return subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def node_ns() -> Iterator[NetNamespace]:
    ns = NetNamespace()
    ns.up()
    yield ns
    ns.down()
    assert not ns.exists()
    assert subprocess.run(["ip", "link", "show", ns.host_ifname], capture_output=True, check=False).returncode != 0


@needs_netns
def test_drop_then_reject_inside_the_namespace(node_ns: NetNamespace) -> None:
    before = root_ruleset()
    sip = SipListener("conf01", node_ns.address, SipListenerSettings(sip_tls_port=None), netns=node_ns)
    sip.start()  # the real SIP ports: the namespace has its own port space
    policy = ClosedPortPolicy(node_ns, ClosedPortSettings(drop_closed_ports=True))
    try:
        assert probe_tcp(node_ns.address, 22, PROBE_TIMEOUT).state is PortState.REFUSED  # no rules yet
        policy.start()
        assert probe_tcp(node_ns.address, 5060, PROBE_TIMEOUT).state is PortState.OPEN
        dropped = probe_tcp(node_ns.address, 22, PROBE_TIMEOUT)
        assert dropped.state is PortState.FILTERED and dropped.elapsed_s >= PROBE_TIMEOUT * 0.9
        assert probe_udp(node_ns.address, 9, timeout=PROBE_TIMEOUT).state is PortState.FILTERED
        assert "drop" in policy.applied()

        policy.reconfigure(ClosedPortSettings(drop_closed_ports=False))
        rejected = probe_tcp(node_ns.address, 22, PROBE_TIMEOUT)
        assert rejected.state is PortState.REFUSED and rejected.elapsed_s < 0.1
        assert probe_udp(node_ns.address, 9, timeout=PROBE_TIMEOUT).state is PortState.REFUSED
        assert probe_tcp(node_ns.address, 5060, PROBE_TIMEOUT).state is PortState.OPEN

        # Established flows survive a policy that would drop their port.
        with socket.create_connection((node_ns.address, 5060), timeout=1) as conn:
            policy.reconfigure(ClosedPortSettings(drop_closed_ports=True, open_tcp_ports=frozenset()))
            conn.sendall(
                b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nFrom: <sip:a>;tag=1\r\n"
                b"To: <sip:x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            assert conn.recv(100).startswith(b"SIP/2.0 200 OK")
        assert probe_tcp(node_ns.address, 5060, PROBE_TIMEOUT).state is PortState.FILTERED

        policy.stop()
        assert probe_tcp(node_ns.address, 22, PROBE_TIMEOUT).state is PortState.REFUSED
    finally:
        sip.stop()
        policy.stop()
    assert root_ruleset() == before


def test_ruleset_text() -> None:
    drop = render_ruleset(ClosedPortSettings(drop_closed_ports=True, open_tcp_ports=frozenset({5061, 443})))
    assert "tcp dport { 443, 5061 } accept" in drop and drop.rstrip().endswith("drop\n  }\n}")
    reject = render_ruleset(ClosedPortSettings(drop_closed_ports=False, open_udp_ports=frozenset()))
    assert "reject with tcp reset" in reject and "icmpx type port-unreachable" in reject and "udp dport" not in reject


@needs_netns
def test_namespace_process_is_stopped_by_teardown() -> None:
    ns = NetNamespace()
    with ns:
        proc = ns.popen(["sleep", "30"])
        assert proc.poll() is None
    assert proc.poll() is not None and not ns.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another uid")
def test_not_root_reports_unavailable() -> None:
    """Really drop to uid 'nobody' in a forked child: up() must raise NetnsUnavailable, nothing is faked."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no exec, so the already-imported code runs as the unprivileged user
        status = 1
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                NetNamespace().up()
                message = "created"
            except NetnsUnavailable as exc:
                message = f"unavailable: {exc}"
            os.write(write_fd, message.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0
    assert message.startswith("unavailable: network namespaces need root"), message
