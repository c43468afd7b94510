"""Closed-port behaviour of a twin node: drop or reject, enforced with nftables inside its netns.

Security wizard question "Drop incoming packets to closed ports rather than reject" (security.json
``drop_not_reject``). With ``drop_closed_ports`` a packet to a port that is not open gets no answer
(a TCP connect times out); without it TCP gets a RST and other protocols an ICMP port-unreachable.
Loopback, established flows and ICMP (ping, path MTU) are always accepted.

Only ever applied inside a :class:`~securemode.infra.netns.NetNamespace`; the root namespace's firewall is not
touched. Without root, :class:`~securemode.infra.netns.NetnsUnavailable` propagates: the behaviour is reported
as unavailable rather than imitated.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from securemode.infra.netns import NetNamespace

TABLE = "securemode_node"


class ClosedPortSettings(BaseModel):
    """``drop_closed_ports`` plus the ports the node's services listen on (those stay open)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drop_closed_ports: bool = True
    open_tcp_ports: frozenset[int] = Field(default=frozenset({443, 5060, 5061}))
    open_udp_ports: frozenset[int] = Field(default=frozenset({161, 5060}))


def render_ruleset(settings: ClosedPortSettings) -> str:
    """The nft script (pure): replace our table with one input chain enforcing the settings."""
    if settings.drop_closed_ports:
        closed = ["drop"]
    else:
        closed = ["meta l4proto tcp reject with tcp reset", "reject with icmpx type port-unreachable"]
    rules = [
        'iifname "lo" accept',
        "ct state established,related accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
    ]
    if settings.open_tcp_ports:
        rules.append(f"tcp dport {{ {', '.join(map(str, sorted(settings.open_tcp_ports)))} }} accept")
    if settings.open_udp_ports:
        rules.append(f"udp dport {{ {', '.join(map(str, sorted(settings.open_udp_ports)))} }} accept")
    rules.extend(closed)
    body = "\n".join(f"    {r}" for r in rules)
    return (
        f"table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n  chain input {{\n"
        f"    type filter hook input priority filter; policy accept;\n{body}\n  }}\n}}\n"
    )


class ClosedPortPolicy:
    """Keeps the namespace's nft table in line with :class:`ClosedPortSettings`."""

    def __init__(self, netns: NetNamespace, settings: ClosedPortSettings | None = None) -> None:
        self.netns = netns
        self.settings = settings or ClosedPortSettings()
        self._active = False

    def __repr__(self) -> str:
        mode = "drop" if self.settings.drop_closed_ports else "reject"
        return f"ClosedPortPolicy({self.netns.name!r}, {mode}, active={self._active})"

    def start(self) -> None:
        self.netns.apply_nft(render_ruleset(self.settings))
        self._active = True

    def reconfigure(self, settings: ClosedPortSettings) -> None:
        self.settings = settings
        if self._active:
            self.netns.apply_nft(render_ruleset(settings))

    def stop(self) -> None:
        if self._active and self.netns.is_up:
            self.netns.apply_nft(f"table inet {TABLE}\ndelete table inet {TABLE}\n")
        self._active = False

    def applied(self) -> str:
        """Our table as the kernel holds it now (read-only)."""
        return self.netns.exec(["nft", "list", "table", "inet", TABLE])
