"""The lab namespace's closed-port policy, per node address: exactly the ports a node serves stay open.

Security wizard question "Drop incoming packets to closed ports rather than reject": with
``drop_closed_ports`` a packet to any other port gets no answer; without it TCP gets a RST and other
protocols an ICMP port-unreachable. Loopback, established flows and ICMP are accepted, except at the
address of a node whose VM is powered off (``silent``): a powered-off machine answers nothing at all.

:class:`securemode.infra.nodes.ClosedPortPolicy` opens the same ports on every address of a namespace; the lab
namespace holds several nodes that serve different ports (SSH only on the manager, SNMP only where it
is on), so this module matches on the destination address as well. Only ever applied inside the lab
namespace (:meth:`securemode.infra.netns.NetNamespace.apply_nft`). Light on imports: the netns keeper applies
the first ruleset before it loads anything heavy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TABLE = "securemode_lab"
# The security wizard's default SIP ports, open until the keeper has read the Management Node's answers.
DEFAULT_SIP_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}


@dataclass(frozen=True)
class AddressPorts:
    """The ports one node address serves right now."""

    address: str
    tcp: frozenset[int]
    udp: frozenset[int]


@dataclass(frozen=True)
class FirewallSettings:
    """Drop or reject, and what stays open on which address; equal settings mean nothing to do."""

    drop_closed_ports: bool
    open: tuple[AddressPorts, ...]
    silent: frozenset[str] = frozenset()  # addresses of nodes whose VM is powered off: nothing answers, not even ICMP


def node_ports(
    address: str,
    *,
    https: int,
    sip: dict[str, int],
    ssh: int | None = None,
    snmp: int | None = None,
) -> AddressPorts:
    """HTTPS and SIP on every node; SSH while the console takes logins; SNMP unless it is DISABLED."""
    tcp = {https, sip["tcp"], sip["tls"]} | ({ssh} if ssh is not None else set())
    udp = {sip["udp"]} | ({snmp} if snmp is not None else set())
    return AddressPorts(address, frozenset(tcp), frozenset(udp))


def _ports(ports: Iterable[int]) -> str:
    return ", ".join(str(p) for p in sorted(ports))


def _open_rules(settings: FirewallSettings) -> list[str]:
    rules = []
    for node in settings.open:
        if node.tcp:
            rules.append(f"ip daddr {node.address} tcp dport {{ {_ports(node.tcp)} }} accept")
        if node.udp:
            rules.append(f"ip daddr {node.address} udp dport {{ {_ports(node.udp)} }} accept")
    return rules


def _closing_rules(drop: bool, match: str = "") -> list[str]:
    if drop:
        return [f"{match}drop"]
    return [f"{match}meta l4proto tcp reject with tcp reset", f"{match}reject with icmpx type port-unreachable"]


def render_ruleset(settings: FirewallSettings, *others: FirewallSettings) -> str:
    """The nft script (pure): replace our table with one input chain enforcing ``settings`` for the namespace,
    and each of ``others`` (another deployment's nodes: the lab's fallback) for its own nodes' addresses only,
    so each deployment's security wizard decides drop or reject on its own nodes."""
    silent = sorted({address for zone in (settings, *others) for address in zone.silent})
    rules = [
        'iifname "lo" accept',
        *([f"ip daddr {{ {', '.join(silent)} }} drop"] if silent else []),
        "ct state established,related accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
    ]
    for other in others:
        addresses = ", ".join(sorted(node.address for node in other.open))
        if addresses:
            rules += _open_rules(other) + _closing_rules(other.drop_closed_ports, f"ip daddr {{ {addresses} }} ")
    rules += _open_rules(settings) + _closing_rules(settings.drop_closed_ports)
    body = "\n".join(f"    {r}" for r in rules)
    return (
        f"table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n  chain input {{\n"
        f"    type filter hook input priority filter; policy accept;\n{body}\n  }}\n}}\n"
    )
