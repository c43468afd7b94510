"""What runs for each node of the lab, as command lines: the twin, the console and the node agents.

``lab up`` starts them at once (bootstrapped profile); on the bare profile the power watcher starts a
node's processes when its VM is powered on in vcsim and stops them when it is powered off
(:mod:`securemode.infra.lab.power_watcher`), from the same :class:`ProcessSpec` values written to a
JSON boot file. ``installed=False`` is the bare node: the console starts on an uninstalled node (the
installation wizard first), the twin serves HTTPS only once the wizard's answers are applied, and the
agent waits for the Management Node to know it for as long as it runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from securemode.infra.lab.plan import SITE_NETMASK, LabPlan, NodePlan
from securemode.infra.lab.processes import Child, spawn_python

TWIN_MODULE = "securemode.infra.lab.twin_process"
CONSOLE_MODULE = "securemode.infra.lab.console_process"
AGENT_MODULE = "securemode.infra.lab.node_agent"
# A real Management Node takes minutes to reboot after a wizard; the lab's console is back after this long:
# long enough that a client sees the port close (the reboot happened), short enough for tests.
DEFAULT_REBOOT_DELAY_S = 1.0


@dataclass(frozen=True)
class ProcessSpec:
    """One lab child: ``python -m module args`` in ``workdir``, its log ``workdir/<name>.log``."""

    name: str
    module: str
    args: tuple[str, ...]
    workdir: str

    def spawn(self) -> Child:
        return spawn_python(self.name, self.module, list(self.args), Path(self.workdir))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessSpec:
        return cls(str(data["name"]), str(data["module"]), tuple(str(a) for a in data["args"]), str(data["workdir"]))


def twin_spec(
    plan: LabPlan,
    workdir: Path,
    state_dir: Path,
    admin_password_file: Path,
    ldap_ca_file: Path,
    netns_ready_file: Path | None,
    *,
    installed: bool = True,
    manager: NodePlan | None = None,
) -> ProcessSpec:
    """The Management Node twin on the manager's loopback address (:mod:`securemode.infra.lab.twin_process`).

    Installed: seeded at first start with the site's answers. Not installed: it waits for the
    console's installation wizard to seed the state and only then serves HTTPS. ``manager``: another
    Management Node than the plan's (the fallback's)."""
    mgr = manager or plan.manager
    args = [
        "--state-dir",
        str(state_dir),
        "--bind-address",
        mgr.address,
        "--port",
        str(plan.ports["https"]),
        "--gateway",
        plan.gateway,
        "--netmask",
        SITE_NETMASK,
        "--node-name",
        mgr.name,
        "--hostname",
        mgr.hostname,
        "--domain",
        plan.domain,
        "--admin-password-file",
        str(admin_password_file),
        "--dns-server",
        plan.address("dns1"),
        "--dns-server",
        plan.address("dns2"),
        "--ntp-server",
        plan.address("ntp1"),
        "--ntp-server",
        plan.address("ntp2"),
        "--ldap-port",
        str(plan.ports["ldaps"]),
        "--ldap-ca-file",
        str(ldap_ca_file),
        "--ldap-tls-mode",
        "ldaps",
    ]
    if netns_ready_file is not None:
        args += ["--netns-ready-file", str(netns_ready_file)]
    if not installed:
        args += ["--await-install", "--status-from-nodes"]
    return ProcessSpec("twin", TWIN_MODULE, tuple(args), str(workdir))


def console_spec(
    plan: LabPlan,
    run: Path,
    twin_state: Path,
    admin_password_file: Path | None,
    reboot_delay_s: float = DEFAULT_REBOOT_DELAY_S,
    manager: NodePlan | None = None,
) -> ProcessSpec:
    """The manager's SSH console; with ``admin_password_file`` the console password is already set
    (bootstrapped), without it the node is fresh: the first login sets it, then the installation wizard.
    ``reboot_delay_s``: how long its port stays closed when a wizard reboots the node; ``manager``: another
    Management Node than the plan's (the fallback's)."""
    address = (manager or plan.manager).address
    args = ["--twin-state", str(twin_state), "--address", address, "--port", str(plan.ports["ssh"]),
            "--reboot-delay", str(reboot_delay_s)]
    if admin_password_file is not None:
        args += ["--initial-password-file", str(admin_password_file)]
    else:
        args += ["--uninstalled"]
    return ProcessSpec("console", CONSOLE_MODULE, tuple(args), str(run / "console"))


def agent_spec(
    node: NodePlan,
    plan: LabPlan,
    run: Path,
    twin_state: Path,
    sync_interval_s: float,
    netns_ready: Path | None,
    console: bool,
    *,
    installed: bool = True,
) -> ProcessSpec:
    """A node's agent (:mod:`securemode.infra.lab.node_agent`); not installed: it waits without a time limit
    for the Management Node to know the node."""
    workdir = run / "nodes" / node.name
    args = [
        "--twin-state",
        str(twin_state),
        "--name",
        node.name,
        "--address",
        node.address,
        "--snmp-port",
        str(plan.ports["snmp"]),
        "--sync-interval",
        str(sync_interval_s),
        "--workdir",
        str(workdir),
    ]
    if netns_ready is not None:
        args += ["--netns-ready-file", str(netns_ready)]
        if node.conferencing:
            args += ["--https-port", str(plan.ports["https"])]
        else:  # the twin's HTTPS and the console's SSH bind loopback: relay them to the site address
            for service in ("https", "ssh") if console else ("https",):
                port = plan.ports[service]
                args += ["--relay", f"{port}:{node.address}:{port}"]
    if not node.conferencing:
        args += ["--forward-audit"]
    if not installed:
        args += ["--config-timeout", "0"]
        if node.conferencing:
            args += ["--report-status-after", str(report_delay_s(sync_interval_s))]
    return ProcessSpec(f"agent-{node.name}", AGENT_MODULE, tuple(args), str(workdir))


def report_delay_s(sync_interval_s: float) -> float:
    """How long a booted conferencing node takes to report DEPLOYED/SYNCED (a real one: about 5 minutes; the
    lab scales it with its replication delay)."""
    return max(1.0, 4 * sync_interval_s)


def write_boot_file(path: Path, boots: dict[str, list[ProcessSpec]]) -> Path:
    """The power watcher's input: per VM name, the processes its power-on starts (in this order)."""
    path.write_text(json.dumps({name: [asdict(s) for s in specs] for name, specs in boots.items()}, indent=1))
    return path


def read_boot_file(path: Path) -> dict[str, list[ProcessSpec]]:
    data = json.loads(path.read_text())
    return {str(name): [ProcessSpec.from_dict(s) for s in specs] for name, specs in data.items()}
