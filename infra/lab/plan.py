"""The lab's address and port plan: which loopback address and port each part gets.

Every part has its own address in one ``127.77.N.0/24`` block (N is picked so that no socket is
bound in the block yet, so two labs — a developer's and a test session's — can run side by side).
As root the parts listen on their real well-known ports (HTTPS 443, SSH 22, DNS 53, NTP 123, SNMP 161,
syslog 514/6514, LDAP 389/636), as a real site would; without root they get free high ports, and the
site file can then not express the DNS port (``dns_servers`` holds addresses only).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securemode.infra.services.process import free_port

DOMAIN = "lab.securemode.test"
BLOCK_PREFIX = "127.77"
FIRST_BLOCK = 0
LAST_BLOCK = 250
MANAGER_HOST = 10
FIRST_CONFERENCING_HOST = 11
SITE_NETMASK = "255.255.255.0"
MAX_CONFERENCING_NODES = 40  # .11-.50 (.53 and up are services; contingency nodes are .200+)
CONTINGENCY_FIRST_HOST = 200  # the fallback of node index i (0: the Management Node): 127.77.N.(200+i)
CONTINGENCY_SUFFIX = "-c"  # the fallback of node "conf01" is "conf01-c" (name and hostname)
HOSTS = {"vcsim": 2, "dns1": 53, "dns2": 54, "syslog": 80, "ocsp": 81, "ldap": 89, "ntp1": 123, "ntp2": 124}
WELL_KNOWN = {
    "https": 443,
    "ssh": 22,
    "dns": 53,
    "ntp": 123,
    "snmp": 161,
    "syslog_udp": 514,
    "syslog_tcp": 514,
    "syslog_tls": 6514,
    "ldap": 389,
    "ldaps": 636,
    "ocsp": 80,
}


@dataclass(frozen=True)
class NodePlan:
    """One twin node: names, its loopback address and its index (0 = the management node; a fallback node has
    the index of the primary node it stands in for)."""

    index: int
    name: str
    hostname: str
    address: str
    conferencing: bool

    def fqdn(self, domain: str = DOMAIN) -> str:
        return f"{self.hostname}.{domain}"


@dataclass(frozen=True)
class LabPlan:
    """Addresses and ports of every part of one lab; pure data, written into the manifest."""

    block: int
    nodes: tuple[NodePlan, ...]
    ports: dict[str, int] = field(default_factory=dict)
    domain: str = DOMAIN
    fallback: tuple[NodePlan, ...] = ()  # the contingency deployment (``lab up --contingency``): manager first

    def address(self, host: int | str) -> str:
        """``127.77.<block>.<host>``; ``host`` is a number or a key of :data:`HOSTS`."""
        number = HOSTS[host] if isinstance(host, str) else host
        return f"{BLOCK_PREFIX}.{self.block}.{number}"

    @property
    def manager(self) -> NodePlan:
        return self.nodes[0]

    @property
    def conferencing(self) -> tuple[NodePlan, ...]:
        return self.nodes[1:]

    @property
    def gateway(self) -> str:
        return self.address(1)

    @property
    def fallback_manager(self) -> NodePlan | None:
        return self.fallback[0] if self.fallback else None

    @property
    def fallback_conferencing(self) -> tuple[NodePlan, ...]:
        return self.fallback[1:]

    def dns_records(self, network: SiteNetwork) -> dict[str, str]:
        """Every lab name the two DNS servers answer for (nodes, fallback nodes too, at their site addresses)."""
        records = {n.fqdn(self.domain): network.address(n) for n in (*self.nodes, *self.fallback)}
        records.update({f"sip{n.index:02d}.{self.domain}": network.address(n) for n in self.conferencing})
        records.update({f"{name}.{self.domain}": self.address(name) for name in HOSTS})
        records[f"esxi.{self.domain}"] = self.address("vcsim")
        return records


@dataclass(frozen=True)
class SiteNetwork:
    """Where the engine reaches the nodes (the site file's, the twin's and DNS's node addresses).

    As root that is each node's address in the lab namespace, where the closed-port policy holds;
    the processes behind it may still bind loopback (the twin and the console, relayed). Without
    the namespace it is the nodes' loopback addresses.
    """

    addresses: dict[str, str]  # node name -> address
    gateway: str
    netmask: str = SITE_NETMASK
    in_namespace: bool = False

    def address(self, node: NodePlan) -> str:
        return self.addresses[node.name]


def loopback_network(plan: LabPlan) -> SiteNetwork:
    """The nodes (and fallback nodes) at their loopback addresses (no namespace)."""
    return SiteNetwork({n.name: n.address for n in (*plan.nodes, *plan.fallback)}, plan.gateway)


def namespace_network(plan: LabPlan, netns_facts: dict[str, Any]) -> SiteNetwork:
    """The nodes (and fallback nodes) at their namespace addresses (the netns keeper's ready facts); the
    gateway is the root namespace's end of the veth pair."""
    addresses = {n.name: str(netns_facts["addresses"][n.name]) for n in (*plan.nodes, *plan.fallback)}
    return SiteNetwork(addresses, str(netns_facts["host_address"]), in_namespace=True)


def host_number(node: NodePlan) -> int:
    """The last octet of the node's loopback address (its namespace address ends the same way for a fallback)."""
    return int(node.address.rsplit(".", 1)[1])


def fallback_of(node: NodePlan) -> NodePlan:
    """The contingency node standing in for ``node``: ``<name>-c`` at 127.77.N.(200+index)."""
    base = node.address.rsplit(".", 1)[0]
    return NodePlan(node.index, f"{node.name}{CONTINGENCY_SUFFIX}", f"{node.hostname}{CONTINGENCY_SUFFIX}",
                    f"{base}.{CONTINGENCY_FIRST_HOST + node.index}", node.conferencing)


def make_plan(conferencing_nodes: int, block: int, *, root: bool | None = None, minimum: int = 1,
              contingency: bool = False) -> LabPlan:
    """The plan for ``conferencing_nodes`` nodes in block ``block`` (ports: well-known as root, else free);
    ``minimum`` 0: a site with the Management Node only (a bare lab before any conferencing node is planned);
    ``contingency``: one fallback node per node as well (:func:`fallback_of`)."""
    if not minimum <= conferencing_nodes <= MAX_CONFERENCING_NODES:
        raise ValueError(f"--nodes must be {minimum}-{MAX_CONFERENCING_NODES}, not {conferencing_nodes}")
    base = f"{BLOCK_PREFIX}.{block}"
    nodes = [NodePlan(0, "mgr", "mgr", f"{base}.{MANAGER_HOST}", conferencing=False)]
    for i in range(1, conferencing_nodes + 1):
        nodes.append(NodePlan(i, f"conf{i:02d}", f"conf{i:02d}", f"{base}.{FIRST_CONFERENCING_HOST + i - 1}", True))
    is_root = os.geteuid() == 0 if root is None else root
    plan = LabPlan(block=block, nodes=tuple(nodes))
    if is_root:
        ports = dict(WELL_KNOWN)
    else:
        # One free port per service kind, each probed on the address that will use it.
        where = {
            "https": plan.manager.address,
            "ssh": plan.manager.address,
            "dns": plan.address("dns1"),
            "ntp": plan.address("ntp1"),
            "snmp": plan.manager.address,
            "syslog_udp": plan.address("syslog"),
            "syslog_tcp": plan.address("syslog"),
            "syslog_tls": plan.address("syslog"),
            "ldap": plan.address("ldap"),
            "ldaps": plan.address("ldap"),
            "ocsp": plan.address("ocsp"),
        }
        protos = {"dns": ("udp", "tcp"), "ntp": ("udp",), "snmp": ("udp",), "syslog_udp": ("udp",)}
        ports = {k: free_port(addr, protos.get(k, ("tcp",))) for k, addr in where.items()}
    fallback = tuple(fallback_of(n) for n in plan.nodes) if contingency else ()
    return LabPlan(block=block, nodes=plan.nodes, ports=ports, fallback=fallback)


def _proc_net_addresses(path: Path) -> set[str]:
    """Local IPv4 addresses of every socket listed in a /proc/net/{tcp,udp} table."""
    found: set[str] = set()
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        local = line.split()[1]
        hex_addr = local.split(":")[0]
        found.add(str(ipaddress.IPv4Address(int.from_bytes(bytes.fromhex(hex_addr), "little"))))
    return found


def blocks_in_use() -> set[int]:
    """Third octets of ``127.77.N.0/24`` blocks in which some socket is bound right now."""
    used: set[int] = set()
    for table in ("tcp", "udp"):
        for addr in _proc_net_addresses(Path("/proc/net") / table):
            if addr.startswith(BLOCK_PREFIX + "."):
                used.add(int(addr.split(".")[2]))
    return used


def free_block(preferred: int | None = None) -> int:
    """``preferred`` if given (even if busy: the caller asked for it), else the first unused block."""
    if preferred is not None:
        if not FIRST_BLOCK <= preferred <= LAST_BLOCK:
            raise ValueError(f"--block must be {FIRST_BLOCK}-{LAST_BLOCK}")
        return preferred
    used = blocks_in_use()
    for block in range(FIRST_BLOCK, LAST_BLOCK + 1):
        if block not in used:
            return block
    raise RuntimeError(f"every {BLOCK_PREFIX}.N.0/24 block has sockets bound; stop a lab first")
