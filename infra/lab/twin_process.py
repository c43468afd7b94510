"""The Management Node twin as a lab process: ``python -m securemode.infra.lab.twin_process``.

Like ``python -m securemode.infra.twin``, with one difference: the installation wizard's answers (first boot)
carry the node's *site* address. As root that is the manager's address in the lab namespace, read
from the netns keeper's ready file (``--netns-ready-file``), with the root side of the veth pair as
gateway; the HTTPS listener itself binds ``--bind-address`` (loopback), where the manager's agent
relays the namespace's 443 to. So the API's read-only ``management_vm.address``, the self-signed
certificate's SAN and the host-header check all name the address the engine uses. Writes one JSON
line (``pid``, ``base_url``, ``fingerprint_sha256``, ``site_address``) when ready; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from securemode.infra.lab.processes import read_ready_file, wait_for_signal, write_ready


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.lab.twin_process", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--bind-address", required=True, help="where the HTTPS listener binds")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--site-address", help="the node's address without a namespace (default: --bind-address)")
    parser.add_argument("--gateway", required=True, help="gateway without a namespace")
    parser.add_argument("--netmask", default="255.255.255.0")
    parser.add_argument("--netns-ready-file", type=Path, help="the netns keeper's ready file")
    parser.add_argument("--node-name", default="mgr", help="the manager's name in the keeper's addresses")
    parser.add_argument("--hostname", default="mgr")
    parser.add_argument("--domain", required=True)
    parser.add_argument("--admin-username", default="admin")
    parser.add_argument("--admin-password-file", type=Path, required=True)
    parser.add_argument("--dns-server", action="append", default=[])
    parser.add_argument("--ntp-server", action="append", default=[])
    parser.add_argument("--ldap-port", type=int)
    parser.add_argument("--ldap-ca-file")
    parser.add_argument("--ldap-tls-mode", choices=("auto", "ldaps", "starttls"), default="auto")
    parser.add_argument("--netns-timeout", type=float, default=30.0)
    parser.add_argument("--await-install", action="store_true",
                        help="a fresh node: serve HTTPS only once the console's installation wizard seeded the state")
    parser.add_argument("--status-from-nodes", action="store_true",
                        help="conferencing node status comes from the nodes' own reports (bare lab)")
    parser.add_argument("--ready-file", type=Path)
    return parser.parse_args(argv)


def site_addressing(args: argparse.Namespace) -> tuple[str, str]:
    """(address, gateway) the installation wizard is answered with."""
    if args.netns_ready_file is None:
        return args.site_address or args.bind_address, args.gateway
    facts = read_ready_file(args.netns_ready_file, args.netns_timeout, "twin: the lab namespace")
    return str(facts["addresses"][args.node_name]), str(facts["host_address"])


def first_boot(args: argparse.Namespace, password: str, address: str, gateway: str) -> None:
    """Seed a fresh state folder as the installation wizard would (nothing when it is seeded already)."""
    from securemode.infra.twin.state.twin_state import TwinState

    state = TwinState(args.state_dir)
    try:
        if not state.seeded:
            state.seed(TwinState.answers(
                address, password, state.config.password_hash_iterations, hostname=args.hostname,
                domain=args.domain, netmask=args.netmask, gateway=gateway, web_admin_username=args.admin_username,
                dns_servers=tuple(args.dns_server), ntp_servers=tuple(args.ntp_server)))
    finally:
        state.close()


def await_install(state_dir: Path, poll_s: float = 0.2) -> str:
    """Block until the installation wizard's answers are applied (the console seeds the state at its
    reboot); returns the installed address. A fresh node has no web interface before that."""
    import signal
    import threading

    from securemode.infra.lab.twin_reader import TwinReader

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    reader = TwinReader(state_dir)
    try:
        while (state := reader.state) is None:
            if stop.wait(poll_s):
                raise SystemExit(0)
        return state.install_wizard().address
    finally:
        reader.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from securemode.infra.twin.node import TwinManagementNode  # the heavy import runs while the namespace comes up

    if args.await_install:
        address = await_install(args.state_dir)
    else:
        password = args.admin_password_file.read_text().strip()
        address, gateway = site_addressing(args)
        first_boot(args, password, address, gateway)
    from securemode.infra.twin.config import TwinConfig

    node = TwinManagementNode(
        args.state_dir, args.bind_address, args.port, admin_username=args.admin_username,
        ldap_port=args.ldap_port, ldap_ca_file=args.ldap_ca_file, ldap_tls_mode=args.ldap_tls_mode,
        config=TwinConfig(status_from_node_reports=args.status_from_nodes),
    ).start()
    try:
        write_ready(args.ready_file, {"pid": os.getpid(), "base_url": node.base_url,
                                      "fingerprint_sha256": node.fingerprint_sha256(), "site_address": address})
        wait_for_signal()
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
