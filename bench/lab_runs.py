"""What the lab benches share: the lab operator's approvals (as bin/main gives them) and `securemode lab`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SECUREMODE = str(Path(sys.executable).with_name("securemode"))
# What bin/main approves and attests on the lab (see its header).
OPERATOR = [
    "--approver",
    "bench",
    *(
        f"--approve={g}"
        for g in (
            "host.lockdown",
            "bootstrap.pin-console-host-key",
            "bootstrap.pin-web-certificate",
            "bootstrap.securitywizard",
            "auth.require-client-certificate",
            "auth.ldap-only",
        )
    ),
    *(
        f"--attest={c}"
        for c in (
            "vms.bios.supervisor-password",
            "bootstrap.wizard.web-sessions",
            "bootstrap.wizard.icmpv6-redirects",
            "bootstrap.wizard.icmpv6-multicast-echo",
            "bootstrap.wizard.ipv6-dad",
            "bootstrap.wizard.anon-dh",
            "nodes.bios.supervisor-password",
        )
    ),
]


def lab(*args: str) -> str:
    proc = subprocess.run([SECUREMODE, "lab", *args], capture_output=True, text=True, check=True, timeout=300)
    return proc.stdout
