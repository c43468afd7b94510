"""The lab namespace's closed-port policy, per node address: exactly the ports a node serves stay open.

Security wizard question "Drop incoming packets to closed ports rather than reject": with
``drop_closed_ports`` a packet to any other port gets no answer; without it TCP gets a RST and other
protocols an ICMP port-unreachable. Loopback, established flows and ICMP are always accepted.

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


def render_ruleset(settings: FirewallSettings) -> str:
    """The nft script (pure): replace our table with one input chain enforcing ``settings``."""
    rules = [
        'iifname "lo" accept',
        "ct state established,related accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
    ]
    for node in settings.open:
        if node.tcp:
            rules.append(f"ip daddr {node.address} tcp dport {{ {_ports(node.tcp)} }} accept")
        if node.udp:
            rules.append(f"ip daddr {node.address} udp dport {{ {_ports(node.udp)} }} accept")
    if settings.drop_closed_ports:
        rules.append("drop")
    else:
        rules += ["meta l4proto tcp reject with tcp reset", "reject with icmpx type port-unreachable"]
    body = "\n".join(f"    {r}" for r in rules)
    return (
        f"table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n  chain input {{\n"
        f"    type filter hook input priority filter; policy accept;\n{body}\n  }}\n}}\n"
    )
