"""Measure how long each lab service takes from spawn until it answers: ``python -m
securemode.infra.services.startup_times``.

Starts every service ``--runs`` times on free loopback ports in a temporary directory, stops each by
PID, and prints min / median / max of ``handle.startup_s``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from securemode.infra.pki.ca import LabCA
from securemode.infra.services import chrony, dns, rsyslog, slapd
from securemode.infra.services.process import ServiceHandle


def starters(root: Path, ca: LabCA) -> dict[str, Callable[[int], ServiceHandle]]:
    records = {f"n{k}.lab.securemode.test": f"127.0.10.{k}" for k in range(1, 7)}
    return {
        "slapd (ldap+ldaps+ldapi, DIT loaded online)": lambda i: slapd.start(root / f"slapd{i}", ca),
        "chronyd (SHA1+SHA256 keys)": lambda i: chrony.start(root / f"chrony{i}", "127.0.0.2"),
        "rsyslogd (udp+tcp+tls)": lambda i: rsyslog.start(root / f"rsyslog{i}", ca),
        "dnsmasq (6 records)": lambda i: dns.start(root / f"dns{i}", records, "127.0.0.4"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sm-startup-") as tmp:
        root = Path(tmp)
        ca = LabCA.create(root / "ca")
        for name, start in starters(root, ca).items():
            times: list[float] = []
            for i in range(args.runs):
                handle = start(i)
                times.append(handle.startup_s)
                handle.stop()
            print(
                f"{name:45s} min {min(times):.3f}s  median {statistics.median(times):.3f}s  "
                f"max {max(times):.3f}s  (runs={args.runs})"
            )


if __name__ == "__main__":
    main()
