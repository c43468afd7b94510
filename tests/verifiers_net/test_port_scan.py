"""The port scan against real listeners on loopback, where a closed port answers with a RST (rejected): the
allowed ports answer in their protocols, and a rejected or an unexpected open port fails by name. Dropped
ports (a PASS) need the lab namespace's firewall: tests/lab_infra/lab/test_node_port_scan.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.nodes import SipListener, SnmpAgent
from securemode.results import Status
from securemode.verifiers.port_scan import AllowedPorts, check_only_allowed_ports
from securemode.verifiers.ports import PortState, probe_udp
from securemode.verifiers.udp_payloads import snmpv3_discovery

HOST = "127.0.0.1"


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stray() -> Iterator[int]:
    """A TCP listener nobody allowed."""
    with socket.create_server((HOST, 0)) as server:
        yield int(server.getsockname()[1])


def allowed_of(node: SipListener) -> AllowedPorts:
    ports = node.ports
    return AllowedPorts(frozenset({ports["tls"], ports["tcp"]}), frozenset({ports["udp"]}), sip_udp=ports["udp"])


def test_allowed_ports_answer_and_rejected_ports_fail_by_name(sip_node: SipListener) -> None:
    closed_tcp, closed_udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    node = Endpoint(HOST, sip_node.ports["tls"], timeout_s=0.5)
    result = check_only_allowed_ports("nodes.ports", "conf01", node, allowed_of(sip_node), [closed_tcp], [closed_udp])
    assert result.status is Status.FAIL, result.message
    assert f"tcp/{closed_tcp} rejected" in result.message and f"udp/{closed_udp} rejected" in result.message
    assert isinstance(result.observed, dict)
    seen = {p["port"]: p["state"] for p in result.observed["probes"]}  # type: ignore[index,union-attr]
    assert seen[f"udp/{sip_node.ports['udp']}"] == "open"  # SIP OPTIONS over UDP drew an answer
    assert seen[f"tcp/{sip_node.ports['tls']}"] == seen[f"tcp/{sip_node.ports['tcp']}"] == "open"
    assert "completed" in str(result.observed["https_tls"])
    assert all("allowed" not in part for part in result.message.split("; "))


def test_an_unexpected_open_port_fails_by_name(sip_node: SipListener, stray: int) -> None:
    node = Endpoint(HOST, sip_node.ports["tls"], timeout_s=0.5)
    result = check_only_allowed_ports("nodes.ports", "conf01", node, allowed_of(sip_node), [stray], [])
    assert result.status is Status.FAIL and f"tcp/{stray} is open but not allowed" in result.message


def test_an_allowed_port_that_is_not_served_fails(sip_node: SipListener) -> None:
    missing = free_port(socket.SOCK_STREAM)
    allowed = allowed_of(sip_node)
    allowed = AllowedPorts(allowed.tcp | {missing}, allowed.udp, allowed.sip_udp)
    node = Endpoint(HOST, sip_node.ports["tls"], timeout_s=0.5)
    result = check_only_allowed_ports("nodes.ports", "conf01", node, allowed, [], [])
    assert result.status is Status.FAIL and f"tcp/{missing} (allowed) is refused: not served" in result.message


def test_the_snmp_discovery_draws_an_answer_from_a_real_agent(snmp_node: SnmpAgent) -> None:
    answered = probe_udp(HOST, snmp_node.port, snmpv3_discovery(), timeout=1.0)
    assert answered.state is PortState.OPEN, answered.line()
    junk = probe_udp(HOST, snmp_node.port, b"\0", timeout=0.3)
    assert junk.state is PortState.FILTERED  # an agent ignores junk: only a real request shows it listens
