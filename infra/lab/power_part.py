"""The lab's power watchers: for one deployment, which processes each VM name boots, and the watcher itself.

A deployment is one Management Node and its conferencing nodes. The primary one is power-driven on the
bare profile (part ``power``); with ``lab up --contingency`` the fallback one is power-driven on every
profile (part ``power-fallback``). Each watcher has its own boot file, running file and Management Node
state folder (the fallback's under ``run/fallback``), so a fallback node's state is apart from the
primary's and outlives its power cycles. Every node boots fresh (:mod:`securemode.infra.lab.node_processes`
with ``installed=False``): the Management Node's console asks for the installation wizard, its twin serves
HTTPS once the wizard ran, and a conferencing node's agent waits until that Management Node knows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securemode.infra.lab.manifest import Part
from securemode.infra.lab.node_processes import ProcessSpec, agent_spec, console_spec, twin_spec, write_boot_file
from securemode.infra.lab.plan import LabPlan, NodePlan, SiteNetwork
from securemode.infra.lab.processes import Child, spawn_python
from securemode.infra.vcsim import Vcsim

BOOT_FILE = "boot.json"
RUNNING_FILE = "running.json"
PRIMARY_PART = "power"
FALLBACK_PART = "power-fallback"
FALLBACK_DIR = "fallback"  # under the lab's run folder: everything the fallback deployment keeps
WATCHER_MODULE = "securemode.infra.lab.power_watcher"


@dataclass(frozen=True)
class Deployment:
    """One Management Node and its conferencing nodes as a power watcher boots them."""

    part: str  # the watcher's name in the manifest
    manager: NodePlan
    conferencing: tuple[NodePlan, ...]
    run: Path  # the deployment's folder: the twin's state, the console's, each node's workdir
    admin_password_file: Path  # what the twin is started with (a fresh node ignores it until installed)

    @property
    def twin_state(self) -> Path:
        return twin_state_of(self.run)

    @property
    def workdir(self) -> Path:
        return running_file_of(self.run).parent

    @property
    def nodes(self) -> tuple[NodePlan, ...]:
        return (self.manager, *self.conferencing)


@dataclass(frozen=True)
class BootSettings:
    """How the deployment's nodes behave (the lab's options)."""

    sync_interval_s: float
    reboot_delay_s: float
    console: bool
    ldap_ca: Path
    netns_ready: Path | None


def twin_state_of(run: Path) -> Path:
    """The Management Node's state folder of the deployment whose folder is ``run``."""
    return run / "twin-state"


def running_file_of(run: Path) -> Path:
    """Where the deployment's watcher records the VMs powered on and the processes it started."""
    return run / "power" / RUNNING_FILE


def fallback_run(run: Path) -> Path:
    """The fallback deployment's folder inside the lab's run folder."""
    return run / FALLBACK_DIR


def primary(plan: LabPlan, run: Path, secrets_dir: Path) -> Deployment:
    return Deployment(PRIMARY_PART, plan.manager, plan.conferencing, run, secrets_dir / "admin-password")


def fallback(plan: LabPlan, run: Path, secrets_dir: Path) -> Deployment | None:
    """The contingency deployment of a lab started with ``--contingency`` (else None)."""
    if plan.fallback_manager is None:
        return None
    return Deployment(
        FALLBACK_PART,
        plan.fallback_manager,
        plan.fallback_conferencing,
        fallback_run(run),
        secrets_dir / "contingency-admin-password",
    )


def boots(d: Deployment, plan: LabPlan, settings: BootSettings) -> dict[str, list[ProcessSpec]]:
    """Per VM name, the processes its power-on starts: console, twin and agent for the Management Node
    (the agent relays the twin's HTTPS and the console's SSH into the namespace), the agent for the others."""
    mgr = [
        twin_spec(
            plan,
            d.run / "twin",
            d.twin_state,
            d.admin_password_file,
            settings.ldap_ca,
            settings.netns_ready,
            installed=False,
            manager=d.manager,
        )
    ]
    if settings.console:
        mgr.insert(0, console_spec(plan, d.run, d.twin_state, None, settings.reboot_delay_s, manager=d.manager))
    out = {
        node.name: [
            agent_spec(
                node,
                plan,
                d.run,
                d.twin_state,
                settings.sync_interval_s,
                settings.netns_ready,
                settings.console,
                installed=False,
            )
        ]
        for node in d.nodes
    }
    out[d.manager.name] = [*mgr, *out[d.manager.name]]
    return out


def spawn_watcher(d: Deployment, plan: LabPlan, settings: BootSettings, sim: Vcsim, password_file: Path) -> Child:
    """The watcher following every VM's power state in the simulator (``password_file``: the vSphere password)."""
    d.workdir.mkdir(parents=True, mode=0o700)
    boot_file = write_boot_file(d.workdir / BOOT_FILE, boots(d, plan, settings))
    args = [
        "--host",
        sim.host,
        "--port",
        str(sim.port),
        "--username",
        sim.username,
        "--password-file",
        str(password_file),
        "--tls-sha256",
        sim.tls_sha256,
        "--boot-file",
        str(boot_file),
        "--running-file",
        str(d.workdir / RUNNING_FILE),
    ]
    return spawn_python(d.part, WATCHER_MODULE, args, d.workdir)


def watcher_part(d: Deployment, child: Child, ready: dict[str, Any], plan: LabPlan, network: SiteNetwork) -> Part:
    """The manifest record: what ``lab status`` probes and ``lab down`` stops (the nodes it drives by name)."""
    return Part(
        d.part,
        "power",
        child.identity(),
        {},
        str(child.log_path.parent),
        {
            **ready,
            "running_file": str(d.workdir / RUNNING_FILE),
            "boot_file": str(d.workdir / BOOT_FILE),
            "ports": {"https": plan.ports["https"], "ssh": plan.ports["ssh"]},
            "state_dir": str(d.twin_state),
            "admin_username": "admin",
            "site_url": f"https://{network.address(d.manager)}:{plan.ports['https']}",
            "nodes": [n.name for n in d.nodes],
        },
    )
