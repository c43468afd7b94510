"""The lab's network namespace, owned by one process: ``python -m securemode.infra.lab.netns_keeper``.

It creates the namespace (:class:`securemode.infra.netns.NetNamespace`: a veth pair to the root namespace in a
private ``10.213.X.0/24``) and gives every node its address inside it (``10.213.X.(10+index)``):
as root that is *the* node address the site file, the twin and DNS name. It keeps the nftables
closed-port policy (:mod:`securemode.infra.lab.ns_firewall`) in line with the Management Node's configuration,
polled from the twin state every ``--sync-interval``: drop or reject per the security wizard, and
open exactly what each node serves (HTTPS; SIP; SNMP unless DISABLED; SSH on the manager while the
console takes logins). Node agents open their listeners there and the manager's agent relays the
twin's HTTPS and the console's SSH. SIGTERM deletes the namespace and the veth pair.

With a fallback deployment (``--fallback-manager``/``--fallback-node NAME:HOST``, ``lab up --contingency``)
its nodes get ``10.213.X.HOST`` (HOST 200+: the same last octet as on loopback); their ports follow the
fallback's own Management Node (``--fallback-twin-state``), and while a fallback node's VM is powered off
(its watcher's running file, ``--fallback-running-file``) its address answers nothing at all.

Start-up stays light (the twin waits for the addresses before its first boot): the first ruleset
uses the wizard's defaults and is written before the twin-state modules are imported.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from securemode.infra.lab.ns_firewall import DEFAULT_SIP_PORTS, FirewallSettings, node_ports, render_ruleset
from securemode.infra.lab.processes import write_ready
from securemode.infra.netns import NetNamespace

log = logging.getLogger("securemode.infra.lab.netns")
NODE_HOST_OFFSET = 10
MANAGER_INDEX = 0
POWER_POLL_S = 0.2


def node_address(namespace: NetNamespace, index: int) -> str:
    """The namespace-side address of node ``index`` (same /24 as the namespace's own address)."""
    return host_address(namespace, NODE_HOST_OFFSET + index)


def host_address(namespace: NetNamespace, host: int) -> str:
    """``host`` (the last octet) in the namespace's /24."""
    prefix = namespace.address.rsplit(".", 1)[0]
    return f"{prefix}.{host}"


def powered_on(running_file: Path | None) -> frozenset[str]:
    """The VM names a power watcher saw powered on (its running file; none while it has not written one)."""
    if running_file is None:
        return frozenset()
    try:
        return frozenset(str(name) for name in json.loads(running_file.read_text()).get("powered_on", []))
    except (OSError, ValueError, AttributeError):
        return frozenset()


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


@dataclass
class Zone:
    """One deployment's nodes in the namespace: their addresses, its Management Node, and its state folder."""

    addresses: dict[str, str]  # node name -> namespace address
    manager: str
    twin_state: Path
    running_file: Path | None = None  # power-driven (the fallback): a node answers nothing while its VM is off
    follower: FirewallFollower | None = None
    configured: FirewallSettings | None = None  # what its configuration implied at the last full sync

    def silent(self) -> frozenset[str]:
        if self.running_file is None:
            return frozenset()
        on = powered_on(self.running_file)
        return frozenset(address for name, address in self.addresses.items() if name not in on)

    def initial(self, args: argparse.Namespace) -> FirewallSettings:
        return replace(initial_firewall(self.addresses, self.manager, args), silent=self.silent())

    def wanted(self, args: argparse.Namespace, *, reread: bool = True) -> FirewallSettings:
        """What its Management Node's configuration implies now (a fresh node's defaults until it is installed);
        ``reread`` False: the configuration as last read, with the power state as it is now."""
        if self.follower is None:  # the twin-state modules load here, after the first ruleset is in place
            self.follower = FirewallFollower(self.twin_state, self.addresses, self.manager, args)
        if reread or self.configured is None:
            self.configured = self.follower.wanted() or initial_firewall(self.addresses, self.manager, args)
        return replace(self.configured, silent=self.silent())

    def close(self) -> None:
        if self.follower is not None:
            self.follower.close()


def _sync(namespace: NetNamespace, zones: list[Zone], applied: list[FirewallSettings],
          args: argparse.Namespace, *, reread: bool = True) -> list[FirewallSettings]:
    """One round: apply what each Management Node's configuration (``reread``: read again; else as last read)
    and the fallback's power now imply; returns what is applied (the first zone is the primary's)."""
    try:
        wanted = [zone.wanted(args, reread=reread) for zone in zones]
        if wanted == applied:
            return applied
        namespace.apply_nft(render_ruleset(*wanted))
    except Exception as exc:  # keep the namespace up; the next round tries again (like a node alarm)
        log.error("closed-port policy not updated: %s: %s", type(exc).__name__, str(exc)[:200])
        return applied
    for settings in wanted:
        log.info("closed ports now %s; open %s; silent %s", "drop" if settings.drop_closed_ports else "reject",
                 "; ".join(f"{n.address} tcp {sorted(n.tcp)} udp {sorted(n.udp)}" for n in settings.open),
                 sorted(settings.silent) or "none")
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
    parser.add_argument("--fallback-twin-state", type=Path, help="the fallback Management Node's state folder")
    parser.add_argument("--fallback-manager", help="NAME:HOST of the fallback Management Node (address .HOST)")
    parser.add_argument("--fallback-node", action="append", default=[], help="NAME:HOST of a fallback node")
    parser.add_argument("--fallback-running-file", type=Path,
                        help="the fallback's power watcher's running file: a node whose VM is off answers nothing")
    parser.add_argument("--ready-file", type=Path)
    return parser.parse_args(argv)


def _ready_facts(namespace: NetNamespace, zones: list[Zone], settings: FirewallSettings) -> dict[str, Any]:
    return {
        "name": namespace.name,
        "host_ifname": namespace.host_ifname,
        "ns_ifname": namespace.ns_ifname,
        "host_address": namespace.host_address,
        "address": namespace.address,
        "addresses": {name: address for zone in zones for name, address in zone.addresses.items()},
        "fallback_addresses": {name: address for zone in zones[1:] for name, address in zone.addresses.items()},
        "drop_closed_ports": settings.drop_closed_ports,
    }


def _zones(namespace: NetNamespace, args: argparse.Namespace) -> list[Zone]:
    """The primary's nodes (``--node NAME:INDEX``), then the fallback's if any (``--fallback-* NAME:HOST``)."""
    primary = Zone({}, "", args.twin_state)
    for spec in args.node:
        name, _, index = spec.partition(":")
        primary.addresses[name] = node_address(namespace, int(index))
        primary.manager = name if int(index) == MANAGER_INDEX else primary.manager
    zones = [primary]
    if args.fallback_manager:
        fallback = Zone({}, args.fallback_manager.partition(":")[0], args.fallback_twin_state,
                        args.fallback_running_file)
        for spec in [args.fallback_manager, *args.fallback_node]:
            name, _, host = spec.partition(":")
            fallback.addresses[name] = host_address(namespace, int(host))
        zones.append(fallback)
    return zones


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    namespace = NetNamespace(prefix="smlab")
    namespace.up()
    try:
        zones = _zones(namespace, args)
        for zone in zones:
            for address in zone.addresses.values():
                namespace.exec(["ip", "addr", "add", f"{address}/{namespace.prefixlen}", "dev", namespace.ns_ifname])
        applied = [zone.initial(args) for zone in zones]
        namespace.apply_nft(render_ruleset(*applied))
        write_ready(args.ready_file, _ready_facts(namespace, zones, applied[0]))
        # A fallback VM's power is followed within POWER_POLL_S (its console answers as soon as it boots, and
        # nothing answers once it is off); the Management Nodes' configuration every --sync-interval.
        poll = min(args.sync_interval, POWER_POLL_S) if len(zones) > 1 else args.sync_interval
        next_read = time.monotonic() + args.sync_interval
        while not done.wait(poll):
            reread = poll == args.sync_interval or time.monotonic() >= next_read
            next_read = time.monotonic() + args.sync_interval if reread else next_read
            applied = _sync(namespace, zones, applied, args, reread=reread)
        for zone in zones:
            zone.close()
    finally:
        namespace.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
