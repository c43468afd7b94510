"""What the lab namespace's firewall keeps open, from the Management Node's configuration (no lab needed)."""

from __future__ import annotations

from typing import Any

from securemode.infra.lab.node_settings import NamespaceNode, namespace_firewall
from securemode.infra.lab.ns_firewall import render_ruleset
from securemode.infra.lab.plan import loopback_network, make_plan
from securemode.infra.twin.state.settings import SecuritySettings

NODES = (NamespaceNode("mgr", "10.213.9.10", manager=True), NamespaceNode("conf01", "10.213.9.11", manager=False))
SNMPV3 = {"snmp_mode": "AUTHPRIV", "snmp_username": "labsnmp", "snmp_authentication_password": "a" * 12,
          "snmp_privacy_password": "p" * 12}


def firewall(security: SecuritySettings, configs: dict[str, Any], ssh: int | None = 22) -> dict[str, Any]:
    settings = namespace_firewall(security, NODES, configs, https_port=443, snmp_port=161, ssh_port=ssh)
    return {"drop": settings.drop_closed_ports,
            **{n.address: (sorted(n.tcp), sorted(n.udp)) for n in settings.open}}


def test_ssh_only_on_the_manager_while_the_console_takes_logins() -> None:
    configs: dict[str, Any] = {"mgr": {}, "conf01": {}}
    assert firewall(SecuritySettings(), configs) == {
        "drop": True, "10.213.9.10": ([22, 443, 5060, 5061], [5060]), "10.213.9.11": ([443, 5060, 5061], [5060])}
    locked = firewall(SecuritySettings(disable_admin_account=True), configs)
    assert locked["10.213.9.10"] == ([443, 5060, 5061], [5060])
    assert firewall(SecuritySettings(), configs, ssh=None)["10.213.9.10"] == ([443, 5060, 5061], [5060])


def test_snmp_open_only_where_it_is_on_and_valid() -> None:
    on = firewall(SecuritySettings(), {"mgr": None, "conf01": SNMPV3})
    assert on["10.213.9.11"][1] == [161, 5060] and on["10.213.9.10"][1] == [5060]
    invalid = firewall(SecuritySettings(), {"mgr": {}, "conf01": {**SNMPV3, "snmp_privacy_password": "short"}})
    assert invalid["10.213.9.11"][1] == [5060]  # the agent leaves SNMP off, so the port stays closed


def test_wizard_ports_and_reject_reach_the_ruleset() -> None:
    security = SecuritySettings(drop_closed_ports=False, sip_udp_port=5070, sip_tcp_port=5070, sip_tls_port=5071)
    settings = namespace_firewall(security, NODES, {}, https_port=443, snmp_port=161, ssh_port=22)
    ruleset = render_ruleset(settings)
    assert "ip daddr 10.213.9.10 tcp dport { 22, 443, 5070, 5071 } accept" in ruleset
    assert "ip daddr 10.213.9.11 udp dport { 5070 } accept" in ruleset
    assert "tcp reject with tcp reset" in ruleset and "\n    drop\n" not in ruleset
    dropping = render_ruleset(namespace_firewall(SecuritySettings(), NODES, {}, 443, 161, 22))
    assert dropping.rstrip().endswith("drop\n  }\n}") and "reject" not in dropping


def test_without_the_namespace_the_site_addresses_are_the_loopback_ones() -> None:
    plan = make_plan(2, 200, root=True)
    network = loopback_network(plan)
    assert not network.in_namespace and network.gateway == "127.77.200.1"
    assert plan.dns_records(network)["conf02.lab.securemode.test"] == "127.77.200.12"
    assert plan.dns_records(network)["sip01.lab.securemode.test"] == "127.77.200.11"
