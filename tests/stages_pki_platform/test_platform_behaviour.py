"""The platform stage's behavioural verifiers against real services: two chronyd with the site's keys,
two dnsmasq answering for the nodes, and an SNMP agent per node that follows what the stage set on
the twin. SNMPv3, NTP and DNS pass; syslog delivery is an honest ERROR (no evidence file given)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from securemode.catalogue import Stage, controls_for
from securemode.flows.stages import load
from securemode.infra.nodes import SnmpAgent, SnmpAgentSettings
from securemode.infra.services import chrony, dns
from securemode.results import Status
from tests.stage_steps import run_steps
from tests.stages_pki_platform.lab import Lab, free_loopback_443, start_lab

PLATFORM = load(Stage.PLATFORM)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("behaviour")
    mgr, conf1, conf2, ntp1, ntp2, dns1, dns2 = free_loopback_443(7)
    handles: list[chrony.ChronyHandle | dns.DnsHandle] = []
    started: Lab | None = None
    try:
        keys = [chrony.NtpKey.generate(1, "SHA1"), chrony.NtpKey.generate(2, "SHA256")]
        ntp = [chrony.start(base / f"ntp{i}", addr, keys=[key]) for i, (addr, key) in
               enumerate(((ntp1, keys[0]), (ntp2, keys[1])))]
        handles += ntp
        records = {"mgr01.example.test": mgr, "conf01.example.test": conf1, "conf02.example.test": conf2}
        handles += [dns.start(base / f"dns{i}", records, addr, port=53, zone="example.test")
                    for i, addr in enumerate((dns1, dns2))]
        ntp_servers = [{"address": h.endpoints["ntp"][0], "port": h.endpoints["ntp"][1], "key_id": k.key_id,
                        "algorithm": k.algorithm, "key": f"env:SMT_NTP_KEY_{k.key_id}"}
                       for h, k in zip(ntp, keys, strict=True)]
        started = start_lab(base, addresses=[mgr, conf1, conf2],
                            overrides={"dns_servers": [dns1, dns2], "ntp_servers": ntp_servers})
        # after start_lab (which sets the default test secrets): the site's keys are the servers' keys
        os.environ["SMT_NTP_KEY_1"], os.environ["SMT_NTP_KEY_2"] = keys[0].hex_secret, keys[1].hex_secret
        yield started
    finally:
        if started is not None:
            started.twin.stop()
        for handle in handles:
            handle.stop()


@pytest.fixture(scope="module")
def agents(lab: Lab) -> Iterator[list[SnmpAgent]]:
    """Run the stage, then start each node's SNMP agent from the configuration the twin now holds."""
    run_steps(PLATFORM, lab.loaded, apply=True)
    running: list[SnmpAgent] = []
    try:
        for node in lab.loaded.site.nodes():
            cfg = lab.twin.state.node_config(node.name)
            assert cfg is not None
            settings = SnmpAgentSettings(
                snmp_mode=cfg["snmp_mode"], snmp_community=SecretStr(cfg["snmp_community"]),
                snmp_username=cfg["snmp_username"],
                snmp_authentication_password=SecretStr(cfg["snmp_authentication_password"]),
                snmp_privacy_password=SecretStr(cfg["snmp_privacy_password"]),
                snmp_system_contact=cfg["snmp_system_contact"], snmp_system_location=cfg["snmp_system_location"])
            agent = SnmpAgent(node.hostname, str(node.address), lab.loaded.site.snmp.port, settings)
            agent.start()
            running.append(agent)
        yield running
    finally:
        for agent in running:
            agent.stop()


def test_platform_verify_end_to_end(lab: Lab, agents: list[SnmpAgent]) -> None:
    results = PLATFORM.verify(lab.loaded)
    keyed = {(r.control, r.target): r for r in results}
    assert len(keyed) == len(results), "one result per control and target"
    assert {r.control for r in results} == {c.id for c in controls_for([Stage.PLATFORM])}
    site = lab.loaded.site
    failing = {k: (r.status.value, r.message) for k, r in keyed.items()
               if r.status not in (Status.PASS, Status.NOT_APPLICABLE) and k[0] != "platform.syslog.delivery"}
    assert failing == {}
    for node in site.nodes():  # read-back and the SNMPv3 GET were combined into one result
        assert len(keyed[("platform.snmp.v3", node.name)].transcript) >= 2
    for server in site.ntp_servers:
        assert keyed[("platform.ntp.authenticated", server.address)].status is Status.PASS
    assert keyed[("platform.syslog.delivery", "127.0.80.1:6514/tls")].status is Status.ERROR
