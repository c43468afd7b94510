"""IPv6 (optional): set on the nodes the site gives an address for, read back, not applicable elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.engine import EngineContext
from securemode.flows.stages.platform import SPEC
from securemode.results import Status
from securemode.verifiers.api import readback_platform
from tests.stages_pki_platform.lab import EXAMPLE, Lab, free_loopback_443, start_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Lab]:
    import yaml

    addresses = free_loopback_443(3)
    nodes = yaml.safe_load(EXAMPLE.read_text())["conferencing_nodes"]
    for node, addr in zip(nodes, addresses[1:], strict=True):
        node.update(address=addr, node_password="env:SMT_NODE_PASSWORD")
    nodes[0].update(ipv6_address="2001:db8::11/64", ipv6_gateway="2001:db8::1")
    started = start_lab(tmp_path_factory.mktemp("lab-ipv6"), addresses=addresses,
                        overrides={"conferencing_nodes": nodes})
    yield started
    started.twin.stop()


def test_ipv6_where_given(lab: Lab) -> None:
    changes = SPEC.step("ipv6").run(EngineContext(site=lab.loaded, apply=True))
    assert [(c.target, c.desired) for c in changes] == [
        ("conf01", {"ipv6_address": "2001:db8::11", "ipv6_gateway": "2001:db8::1"})]
    assert SPEC.step("ipv6").run(EngineContext(site=lab.loaded, apply=True)) == []
    results = {r.target: r.status for r in readback_platform(lab.loaded) if r.control == "platform.ipv6"}
    assert results == {"mgr01": Status.NOT_APPLICABLE, "conf01": Status.PASS, "conf02": Status.NOT_APPLICABLE}
