"""The namespace ruleset with a fallback deployment: each deployment's wizard decides drop or reject for its own
nodes, and a powered-off fallback node's address answers nothing, not even ICMP."""

from __future__ import annotations

from securemode.infra.lab.ns_firewall import DEFAULT_SIP_PORTS, FirewallSettings, node_ports, render_ruleset

PRIMARY = FirewallSettings(True, (node_ports("10.213.7.10", https=443, sip=DEFAULT_SIP_PORTS, ssh=22),))
FALLBACK = FirewallSettings(
    False,
    (
        node_ports("10.213.7.200", https=443, sip=DEFAULT_SIP_PORTS, ssh=22),
        node_ports("10.213.7.201", https=443, sip=DEFAULT_SIP_PORTS),
    ),
)


def _rules(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.startswith("    ") and "type filter" not in line]


def test_the_primary_alone_renders_as_before() -> None:
    assert _rules(render_ruleset(PRIMARY)) == [
        'iifname "lo" accept',
        "ct state established,related accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
        "ip daddr 10.213.7.10 tcp dport { 22, 443, 5060, 5061 } accept",
        "ip daddr 10.213.7.10 udp dport { 5060 } accept",
        "drop",
    ]


def test_the_fallback_rejects_on_its_own_addresses_only() -> None:
    rules = _rules(render_ruleset(PRIMARY, FALLBACK))
    scoped = "ip daddr { 10.213.7.200, 10.213.7.201 } "
    assert rules.index("ip daddr 10.213.7.201 tcp dport { 443, 5060, 5061 } accept") < rules.index(
        f"{scoped}meta l4proto tcp reject with tcp reset"
    )
    assert f"{scoped}reject with icmpx type port-unreachable" in rules
    assert rules[-1] == "drop" and "meta l4proto tcp reject with tcp reset" not in rules  # the primary still drops


def test_a_powered_off_fallback_node_answers_nothing() -> None:
    off = FirewallSettings(FALLBACK.drop_closed_ports, FALLBACK.open, frozenset({"10.213.7.201"}))
    rules = _rules(render_ruleset(PRIMARY, off))
    silent = "ip daddr { 10.213.7.201 } drop"
    assert rules.index(silent) < rules.index("ct state established,related accept")
    assert rules.index(silent) < rules.index("meta l4proto { icmp, ipv6-icmp } accept")
