"""The port scan of a conferencing node at its site address in the lab namespace: only its allowed ports
answer and every other one is dropped; a stray listener, a reject policy and an empty address are caught."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.lab.netns_attach import AttachedNamespace
from securemode.infra.lab.ns_firewall import TABLE
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.lab.twin_reader import TwinReader
from securemode.results import Result, Status
from securemode.site import Site
from securemode.verifiers.port_scan import AllowedPorts, allowed_node_ports, check_only_allowed_ports
from tests.lab_infra.lab.twin_settings import security_settings, settle

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab namespace (site addresses, closed ports) needs root")
STRAY_PORT = 8080
SCAN_GOAL_S = 3.0


@pytest.fixture(scope="module")
def site(lab: RunningLab) -> Site:
    if lab.manifest.netns is None:
        pytest.skip(f"namespace unavailable: {lab.manifest.netns_unavailable}")
    return lab.site().site


def node_name(site: Site) -> str:
    return site.conferencing_nodes[0].name


def node_address(site: Site) -> str:
    return str(site.conferencing_nodes[0].address)


def allowed(lab: RunningLab, site: Site) -> AllowedPorts:
    """The wizard's ports from the site file; SNMP's only while the Management Node has SNMP on for the node."""
    reader = TwinReader(Path(lab.part("twin").facts["state_dir"]))
    try:
        config = reader.node_config(node_name(site)) or {}
    finally:
        reader.close()
    snmp_on = config.get("snmp_mode") not in (None, "DISABLED")
    return allowed_node_ports(site.security_wizard, 443, site.snmp.port if snmp_on else None)


def scan(lab: RunningLab, site: Site, address: str | None = None) -> Result:
    return check_only_allowed_ports(
        "nodes.ports.only-allowed", node_name(site), Endpoint(address or node_address(site), 443), allowed(lab, site)
    )


def states(result: Result) -> dict[str, str]:
    assert isinstance(result.observed, dict)
    return {p["port"]: p["state"] for p in result.observed["probes"]}  # type: ignore[index,union-attr]


def test_a_conferencing_node_shows_only_its_allowed_ports_and_drops_the_rest(lab: RunningLab, site: Site) -> None:
    t0 = time.monotonic()
    result = scan(lab, site)
    took = time.monotonic() - t0
    assert result.status is Status.PASS, result.message
    seen = states(result)
    assert seen["tcp/443"] == seen["tcp/5061"] == seen["udp/5060"] == "open"
    assert seen["tcp/22"] == seen["tcp/8080"] == seen["udp/123"] == "filtered"
    assert took < SCAN_GOAL_S, f"the scan took {took:.2f} s"
    assert any("scan of" in line for line in result.transcript)


@contextlib.contextmanager
def stray_listener(lab: RunningLab, address: str, port: int) -> Iterator[None]:
    """A TCP listener at the node's address inside the namespace, let through the namespace firewall (a
    service someone started and opened a hole for); both are removed after the block."""
    assert lab.manifest.netns is not None
    ns = AttachedNamespace(str(lab.manifest.netns["name"]), address)
    server = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
    rule = f"ip daddr {address} tcp dport {port} accept"
    try:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, port))
        server.listen()
        echoed = ns.exec(["nft", "--echo", "--handle", "insert", "rule", "inet", TABLE, "input", *rule.split()])
        handle = re.search(r"# handle (\d+)", echoed)
        assert handle is not None, echoed
        try:
            yield
        finally:
            ns.exec(["nft", "delete", "rule", "inet", TABLE, "input", "handle", handle.group(1)])
    finally:
        server.close()


def test_a_stray_listener_at_the_node_address_fails_the_scan_by_name(lab: RunningLab, site: Site) -> None:
    with stray_listener(lab, node_address(site), STRAY_PORT):
        result = scan(lab, site)
    assert result.status is Status.FAIL, result.message
    assert f"tcp/{STRAY_PORT} is open but not allowed" in result.message
    assert scan(lab, site).status is Status.PASS


def test_closed_ports_rejected_instead_of_dropped_fail(lab: RunningLab, site: Site) -> None:
    try:
        with security_settings(lab, drop_closed_ports=False):
            deadline = time.monotonic() + settle(lab)
            result = scan(lab, site)
            # until the change has reached every closed port (the console's SSH relay follows it last)
            while states(result).get("tcp/22") != "refused" and time.monotonic() < deadline:
                time.sleep(0.3)
                result = scan(lab, site)
            assert result.status is Status.FAIL, result.message
            assert states(result)["tcp/22"] == "refused"
            assert "tcp/22 rejected" in result.message and "instead of dropped" in result.message
    finally:
        deadline = time.monotonic() + settle(lab)
        while scan(lab, site).status is not Status.PASS:
            assert time.monotonic() < deadline, "the drop policy did not come back"
            time.sleep(0.3)


def test_an_address_where_nothing_lives_is_error_not_pass(lab: RunningLab, site: Site) -> None:
    prefix = node_address(site).rsplit(".", 1)[0]
    result = scan(lab, site, f"{prefix}.250")
    assert result.status is Status.ERROR, result.message
    assert "not shown alive" in result.message
    assert set(states(result).values()) <= {"filtered", "unreachable"}
