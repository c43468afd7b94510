"""The Management Node's SSH admin console as a lab process: ``python -m securemode.infra.lab.console_process``.

Runs :class:`securemode.infra.console.ConsoleServer` on the node's address over the twin's state folder (shared
with the twin process through SQLite), reports its port and host key, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from securemode.infra.lab.processes import wait_for_signal, write_ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.lab.console_process", description=__doc__)
    parser.add_argument("--twin-state", type=Path, required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--reboot-delay", type=float, default=1.0)
    parser.add_argument("--initial-password-file", type=Path,
                        help="bootstrapped profile: the console password the first login already set")
    parser.add_argument("--uninstalled", action="store_true",
                        help="a fresh node: the console answers before the installation wizard ran")
    parser.add_argument("--start-timeout", type=float, default=30.0)
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from securemode.infra.console import ConsoleServer
    from securemode.infra.lab.twin_reader import TwinReader

    # The console of an installed node: wait until the twin has seeded its state (a fresh node's console
    # asks for the installation wizard instead).
    reader = TwinReader(args.twin_state)
    deadline = time.monotonic() + args.start_timeout
    while not args.uninstalled and reader.state is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"console: the twin state in {args.twin_state} was not seeded in time")
        time.sleep(0.05)
    reader.close()

    server = ConsoleServer(args.twin_state, args.address, args.port, reboot_delay_s=args.reboot_delay)
    if args.initial_password_file and not server.node.password_set():
        server.node.set_password(args.initial_password_file.read_text().rstrip("\n"))
    server.start()
    try:
        write_ready(
            args.ready_file,
            {"address": args.address, "port": server.port, "host_key": server.host_public_key(),
             "host_key_fingerprint": server.host_key_fingerprint()},
        )
        wait_for_signal()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
