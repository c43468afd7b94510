"""The lab's network namespace, owned by one process: ``python -m securemode.infra.lab.netns_keeper``.

It creates the namespace (:class:`securemode.infra.netns.NetNamespace`: a veth pair to the root namespace in a
private ``10.213.X.0/24``) and gives every node its address inside it (``10.213.X.(10+index)``):
as root that is *the* node address the site file, the twin and DNS name. It keeps the nftables
closed-port policy (:mod:`securemode.infra.lab.ns_firewall`) in line with the Management Node's configuration,
polled from the twin state every ``--sync-interval``: drop or reject per the security wizard, and
open exactly what each node serves (HTTPS; SIP; SNMP unless DISABLED; SSH on the manager while the
console takes logins). Node agents open their listeners there and the manager's agent relays the
twin's HTTPS and the console's SSH. SIGTERM deletes the namespace and the veth pair.

Start-up stays light (the twin waits for the addresses before its first boot): the first ruleset
uses the wizard's defaults and is written before the twin-state modules are imported.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from securemode.infra.lab.ns_firewall import DEFAULT_SIP_PORTS, FirewallSettings, node_ports, render_ruleset
from securemode.infra.lab.processes import write_ready
from securemode.infra.netns import NetNamespace

log = logging.getLogger("securemode.infra.lab.netns")
NODE_HOST_OFFSET = 10
MANAGER_INDEX = 0


def node_address(namespace: NetNamespace, index: int) -> str:
    """The namespace-side address of node ``index`` (same /24 as the namespace's own address)."""
    prefix = namespace.address.rsplit(".", 1)[0]
    return f"{prefix}.{NODE_HOST_OFFSET + index}"


def initial_firewall(addresses: dict[str, str], manager: str, args: argparse.Namespace) -> FirewallSettings:
    """Before the Management Node's answers are known: a fresh node's defaults (drop; SNMP off)."""
    return FirewallSettings(True, tuple(
        node_ports(address, https=args.https_port, sip=DEFAULT_SIP_PORTS,
                   ssh=args.ssh_port if name == manager else None)
        for name, address in addresses.items()))


class FirewallFollower:
    """Reads the twin state and says which firewall settings it implies (None while it is not seeded)."""

    def __init__(self, twin_state: Path, addresses: dict[str, str], manager: str, args: argparse.Namespace) -> None:
        from securemode.infra.lab.node_settings import NamespaceNode
        from securemode.infra.lab.twin_reader import TwinReader

        self.reader = TwinReader(twin_state)
        self.nodes = [NamespaceNode(name, address, name == manager) for name, address in addresses.items()]
        self.args = args

    def wanted(self) -> FirewallSettings | None:
        from securemode.infra.lab.node_settings import namespace_firewall

        security = self.reader.security_settings()
        if security is None:
            return None
        configs = {node.name: self.reader.node_config(node.name) for node in self.nodes}
        return namespace_firewall(security, self.nodes, configs, self.args.https_port, self.args.snmp_port,
                                  self.args.ssh_port)

    def close(self) -> None:
        self.reader.close()


def _sync(namespace: NetNamespace, follower: FirewallFollower, applied: FirewallSettings) -> FirewallSettings:
    """One round: apply what the Management Node's configuration now implies; returns what is applied."""
    try:
        wanted = follower.wanted()
        if wanted is None or wanted == applied:
            return applied
        namespace.apply_nft(render_ruleset(wanted))
    except Exception as exc:  # keep the namespace up; the next round tries again (like a node alarm)
        log.error("closed-port policy not updated: %s: %s", type(exc).__name__, str(exc)[:200])
        return applied
    log.info("closed ports now %s; open %s", "drop" if wanted.drop_closed_ports else "reject",
             "; ".join(f"{n.address} tcp {sorted(n.tcp)} udp {sorted(n.udp)}" for n in wanted.open))
    return wanted


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.lab.netns_keeper", description=__doc__)
    parser.add_argument("--twin-state", type=Path, required=True)
    parser.add_argument("--node", action="append", default=[],
                        help="NAME:INDEX of a node to give an address (index 0 is the Management Node)")
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument("--snmp-port", type=int, default=161)
    parser.add_argument("--ssh-port", type=int, help="the console's port on the Management Node (omit: no console)")
    parser.add_argument("--sync-interval", type=float, default=3.0)
    parser.add_argument("--ready-file", type=Path)
    return parser.parse_args(argv)


def _ready_facts(namespace: NetNamespace, addresses: dict[str, str], settings: FirewallSettings) -> dict[str, Any]:
    return {
        "name": namespace.name,
        "host_ifname": namespace.host_ifname,
        "ns_ifname": namespace.ns_ifname,
        "host_address": namespace.host_address,
        "address": namespace.address,
        "addresses": addresses,
        "drop_closed_ports": settings.drop_closed_ports,
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    namespace = NetNamespace(prefix="smlab")
    namespace.up()
    try:
        addresses: dict[str, str] = {}
        manager = ""
        for spec in args.node:
            name, _, index = spec.partition(":")
            addresses[name] = node_address(namespace, int(index))
            manager = name if int(index) == MANAGER_INDEX else manager
            namespace.exec(["ip", "addr", "add", f"{addresses[name]}/{namespace.prefixlen}", "dev",
                            namespace.ns_ifname])
        applied = initial_firewall(addresses, manager, args)
        namespace.apply_nft(render_ruleset(applied))
        write_ready(args.ready_file, _ready_facts(namespace, addresses, applied))
        follower = FirewallFollower(args.twin_state, addresses, manager, args)
        while not done.wait(args.sync_interval):
            applied = _sync(namespace, follower, applied)
        follower.close()
    finally:
        namespace.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
