"""Run the Management Node twin as a process: `python -m securemode.infra.twin --state-dir DIR --port 8443`.

Prints one JSON line when ready ({"pid", "base_url", "fingerprint_sha256"}) and stops on SIGTERM/SIGINT.
The web admin password comes from a file or an environment variable, never from the command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from securemode.infra.twin.node import TwinManagementNode


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.twin", description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--hostname", default="mgr")
    parser.add_argument("--domain", default="example.test")
    parser.add_argument("--admin-username", default="admin")
    parser.add_argument("--admin-password-file", type=Path, help="file holding the web admin password")
    parser.add_argument("--admin-password-env", default="TWIN_ADMIN_PASSWORD", help="env var with the password")
    parser.add_argument("--dns-server", action="append", default=[])
    parser.add_argument("--ntp-server", action="append", default=[])
    parser.add_argument("--ldap-port", type=int)
    parser.add_argument("--ldap-ca-file")
    parser.add_argument("--ldap-tls-mode", choices=("auto", "ldaps", "starttls"), default="auto")
    parser.add_argument("--pid-file", type=Path)
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    password = None
    if args.admin_password_file:
        password = args.admin_password_file.read_text().strip()
    elif os.environ.get(args.admin_password_env):
        password = os.environ[args.admin_password_env]
    try:
        node = TwinManagementNode(
            args.state_dir,
            args.address,
            args.port,
            admin_username=args.admin_username,
            admin_password=password,
            hostname=args.hostname,
            domain=args.domain,
            dns_servers=tuple(args.dns_server),
            ntp_servers=tuple(args.ntp_server),
            ldap_port=args.ldap_port,
            ldap_ca_file=args.ldap_ca_file,
            ldap_tls_mode=args.ldap_tls_mode,
        ).start()
    except (ValueError, OSError) as exc:
        print(f"twin: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    if args.pid_file:
        args.pid_file.write_text(f"{os.getpid()}\n")
    print(
        json.dumps({"pid": os.getpid(), "base_url": node.base_url, "fingerprint_sha256": node.fingerprint_sha256()}),
        flush=True,
    )
    done.wait()
    node.stop()
    if args.pid_file:
        args.pid_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
