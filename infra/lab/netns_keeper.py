"""The lab's network namespace, owned by one process: ``python -m infra.lab.netns_keeper``.

It creates the namespace (:class:`infra.netns.NetNamespace`: a veth pair to the root namespace in a
private ``10.213.X.0/24``), gives every node its own address inside it (``10.213.X.(10+index)``), and
keeps the nftables closed-port policy in line with the Management Node's security wizard answer
"drop incoming packets to closed ports" (polled from the twin state every ``--sync-interval``).
Node agents open their SNMP/SIP sockets there, and the management node's agent relays HTTPS and SSH
there, so a probe of a node's namespace address meets real listeners and a real drop or reject.
SIGTERM deletes the namespace and the veth pair.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from infra.lab.node_settings import closed_port_settings
from infra.lab.processes import write_ready
from infra.lab.twin_reader import TwinReader
from infra.netns import NetNamespace
from infra.nodes import ClosedPortPolicy
from infra.twin.state.settings import SecuritySettings

log = logging.getLogger("infra.lab.netns")
NODE_HOST_OFFSET = 10


def node_address(namespace: NetNamespace, index: int) -> str:
    """The namespace-side address of node ``index`` (same /24 as the namespace's own address)."""
    prefix = namespace.address.rsplit(".", 1)[0]
    return f"{prefix}.{NODE_HOST_OFFSET + index}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.lab.netns_keeper", description=__doc__)
    parser.add_argument("--twin-state", type=Path, required=True)
    parser.add_argument("--node", action="append", default=[], help="NAME:INDEX of a node to give an address")
    parser.add_argument("--snmp-port", type=int, default=161)
    parser.add_argument("--open-tcp", type=int, action="append", default=[], help="extra TCP ports kept open")
    parser.add_argument("--sync-interval", type=float, default=3.0)
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    namespace = NetNamespace(prefix="smlab")
    namespace.up()
    try:
        addresses: dict[str, str] = {}
        for spec in args.node:
            name, _, index = spec.partition(":")
            addresses[name] = node_address(namespace, int(index))
            cidr = f"{addresses[name]}/{namespace.prefixlen}"
            namespace.exec(["ip", "addr", "add", cidr, "dev", namespace.ns_ifname])
        extra = frozenset(args.open_tcp)
        security = SecuritySettings()
        policy = ClosedPortPolicy(namespace, closed_port_settings(security, args.snmp_port, extra))
        policy.start()
        write_ready(
            args.ready_file,
            {
                "name": namespace.name,
                "host_ifname": namespace.host_ifname,
                "ns_ifname": namespace.ns_ifname,
                "host_address": namespace.host_address,
                "address": namespace.address,
                "addresses": addresses,
                "drop_closed_ports": security.drop_closed_ports,
            },
        )
        reader = TwinReader(args.twin_state)
        while not done.wait(args.sync_interval):
            current = reader.security_settings()
            if current is None:
                continue
            wanted = closed_port_settings(current, args.snmp_port, extra)
            if wanted != policy.settings:
                policy.reconfigure(wanted)
                log.info("closed ports now %s", "drop" if wanted.drop_closed_ports else "reject")
        reader.close()
    finally:
        namespace.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
