"""`securemode lab up | down | status`: the embedded lab on loopback (see infra/lab/).

`up` and `status` print the site file's path on a line of its own (`site: PATH`), and `up` says on
`started: yes|no` whether it started the lab (no: one was already running, decided from its manifest),
so a script stops only a lab it started. `status` probes each part in the state the deployment is in
now (infra/lab/expected_state.py) and prints that state per part; it exits 1 when any part is down or
no lab runs; bad arguments exit 2; a failed `up` exits 1 after stopping whatever it had started.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from securemode.infra.lab.manifest import Manifest, read_manifest
from securemode.infra.lab.profiles import DEFAULT_PROFILE, PROFILES

EXIT_OK = 0
EXIT_DOWN = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="securemode lab", description="The embedded lab on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the lab (a no-op when it already runs)")
    up.add_argument("--nodes", type=int, default=2,
                    help="conferencing nodes (default 2; bare: 0 for the Management Node only)")
    up.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE)
    up.add_argument("--sync-interval", type=float, default=3.0,
                    help="seconds between a node's configuration pulls (real nodes: about 60)")
    up.add_argument("--reboot-delay", type=float, default=1.0,
                    help="seconds the Management Node's console stays down when a wizard reboots it (real: minutes)")
    up.add_argument("--block", type=int, help="use 127.77.BLOCK.0/24 (default: the first unused block)")
    up.add_argument("--no-console", action="store_true", help="do not start the SSH admin console")
    up.add_argument("--no-netns", action="store_true", help="no namespace (no closed-port behaviour)")
    up.add_argument("--contingency", action="store_true",
                    help="plan a fallback deployment too (site file section contingency: <node>-c): a VM named "
                         "after a fallback node, powered on in the simulator, boots it fresh (any profile)")
    up.add_argument("--timings", action="store_true", help="print when each part was ready")
    up.add_argument("--json", action="store_true", help="print the manifest as JSON")
    sub.add_parser("down", help="stop every part of the lab and remove what it made")
    status = sub.add_parser("status", help="probe every part in the state the deployment expects; exit 1 if any "
                                           "is down")
    status.add_argument("--json", action="store_true")
    return parser


def _print_parts(manifest: Manifest) -> None:
    for name, part in manifest.parts.items():
        pid = part.process.pid if part.process else "-"
        where = ", ".join(f"{k}={e.host}:{e.port}/{e.proto}" for k, e in part.endpoints.items())
        print(f"  {name:<14} pid {pid:<8} {where}")


def _up(args: argparse.Namespace) -> int:
    from securemode.infra.lab.lifecycle import LabDegraded, LabError, UpOptions, up
    from securemode.infra.lab.processes import LabProcessError

    if args.sync_interval <= 0:
        print("lab up: --sync-interval must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.reboot_delay < 0:
        print("lab up: --reboot-delay must not be negative", file=sys.stderr)
        return EXIT_USAGE
    options = UpOptions(nodes=args.nodes, profile=args.profile, sync_interval_s=args.sync_interval,
                        block=args.block, console=not args.no_console, netns=not args.no_netns,
                        reboot_delay_s=args.reboot_delay, contingency=args.contingency)
    try:
        result = up(options)
    except ValueError as exc:
        print(f"lab up: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabDegraded as exc:
        print(f"lab up: {exc}", file=sys.stderr)
        return EXIT_DOWN
    except (LabError, LabProcessError, OSError, RuntimeError) as exc:
        print(f"lab up failed (everything started was stopped again): {exc}", file=sys.stderr)
        return EXIT_DOWN
    m = result.manifest
    if result.already_running:
        print(f"lab already running (started {m.created}, block 127.77.{m.block}.0/24); nothing to do")
    else:
        print(f"lab up in {m.up_wall_s:.2f}s: profile {m.profile}, {len(m.nodes) - 1} conferencing node(s), "
              f"block 127.77.{m.block}.0/24")
        if m.fallback_nodes:
            print(f"contingency: {len(m.fallback_nodes)} fallback node(s) "
                  f"({', '.join(str(n['name']) for n in m.fallback_nodes)}), booted when their VMs are powered on")
        if m.netns_unavailable:
            print(f"closed-port behaviour unavailable: {m.netns_unavailable}")
        if args.timings:
            for step, seconds in sorted(m.timings.items(), key=lambda kv: kv[1]):
                print(f"  {seconds:6.2f}s  {step}")
    if args.json:
        print(json.dumps(m.to_dict(), indent=2))
    else:
        _print_parts(m)
    print(f"started: {'no' if result.already_running else 'yes'}")
    print(f"site: {m.site_file}")
    return EXIT_OK


def _down() -> int:
    from securemode.infra.lab.lifecycle import down

    manifest, stopped = down()
    if manifest is None:
        print("no lab manifest here; nothing to stop")
    else:
        print(f"lab down: stopped {len(stopped)} process(es): {', '.join(stopped) or 'none were running'}")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from securemode.infra.lab.health import check_all
    from securemode.infra.lab.lifecycle import lab_dir

    manifest = read_manifest(lab_dir())
    if manifest is None:
        print("no lab is running (no manifest); start one with `securemode lab up`")
        return EXIT_DOWN
    report = check_all(manifest)
    if args.json:
        print(json.dumps([{"part": h.part, "ok": h.ok, "expected": h.expected, "detail": h.detail} for h in report],
                         indent=2))
    else:
        for h in report:
            print(f"  {'up  ' if h.ok else 'DOWN'}  {h.part:<14} ({h.expected}) {h.detail}")
    down = [h.part for h in report if not h.ok]
    print(f"lab {'degraded: ' + ', '.join(down) + ' down' if down else 'up'} "
          f"({len(report) - len(down)}/{len(report)} parts answer)")
    print(f"site: {manifest.site_file}")
    return EXIT_DOWN if down else EXIT_OK


def run_lab_command(argv: Sequence[str]) -> int:
    """Entry point used by `securemode lab …`; returns the exit code."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if args.command == "up":
        return _up(args)
    if args.command == "down":
        return _down()
    return _status(args)


if __name__ == "__main__":
    sys.exit(run_lab_command(sys.argv[1:]))
