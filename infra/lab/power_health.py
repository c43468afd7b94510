"""``lab status`` on a power-driven lab: the health of each node whose VM is powered on.

Power-driven are the bare lab's nodes and, with ``lab up --contingency``, the fallback's nodes on every
profile (each deployment has a watcher of its own, :mod:`securemode.infra.lab.power_part`).

The power watcher records which VMs are powered on and the processes it started for each
(:mod:`securemode.infra.lab.power_watcher`). A powered-off node is the bare lab's normal state: it is
listed as off, never as down. A powered-on node must have all its processes running and answer as its
boot has got so far, read from the twin's state like the bootstrapped profile's checks
(:mod:`securemode.infra.lab.health`):

* the Management Node: its console's SSH (the installation wizard waits there) until the security wizard
  closed it; once installed, its HTTPS with the certificate the deployment assigned;
* a Conferencing Node: booted and waiting while the Management Node does not know it; once registered,
  SIP/TCP on the wizard's port and HTTPS with its certificate at its site address.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securemode.infra.lab.expected_state import Expected, read_expected
from securemode.infra.lab.manifest import Endpoint, Manifest, Part
from securemode.infra.lab.node_processes import read_boot_file
from securemode.infra.lab.processes import ProcessIdentity, is_running

DEFAULT_PORTS = {"https": 443, "ssh": 22}


@dataclass(frozen=True)
class NodeHealth:
    """One node of a power-driven lab: the name ``lab status`` prints, ok, the expected state, the detail."""

    part: str
    ok: bool
    expected: str
    detail: str


@dataclass(frozen=True)
class Booted:
    """What a powered-on node's probes need: where it answers and how far the deployment has got."""

    manifest: Manifest
    name: str
    address: str
    ports: dict[str, int]
    manager: bool
    console: bool  # the node boots a console (the Management Node, unless the lab runs without one)
    installed: bool  # the Management Node's installation wizard has run (the twin's state is seeded)
    registered: bool  # the Management Node knows this node (its worker_vm exists; the manager: once installed)
    sip_tcp_port: int


def powered_on_nodes(part: Part) -> tuple[set[str], dict[str, list[ProcessIdentity]]]:
    """The VMs the watcher saw powered on, and each node's processes it started."""
    try:
        data: dict[str, Any] = json.loads(Path(str(part.facts["running_file"])).read_text())
    except (OSError, ValueError):
        return set(), {}
    running = {str(n): [ProcessIdentity.from_dict(i) for i in ids] for n, ids in data.get("running", {}).items()}
    return {str(n) for n in data.get("powered_on", [])}, running


def check_powered_nodes(
    m: Manifest, part: Part, probe: Callable[[Booted, Expected | None], tuple[str, str]]
) -> list[NodeHealth]:
    """One entry per node of the lab: off (ok), or powered on and probed with ``probe`` -> (expected, detail)."""
    powered, running = powered_on_nodes(part)
    boots = _boot_specs(part)
    out = []
    for node in driven_nodes(m, part):
        name = str(node["name"])
        label = f"vm {name}"
        if name not in powered:
            out.append(NodeHealth(label, True, "powered off (nothing runs)", "VM not powered on"))
            continue
        dead = [i.pid for i in running.get(name, []) if not is_running(i)]
        if name not in running:
            out.append(NodeHealth(label, False, "booted", "powered on, but the watcher started nothing for it"))
            continue
        if dead:
            out.append(NodeHealth(label, False, "booted", f"process(es) {dead} ended while the VM is powered on"))
            continue
        booted, expected = _booted(m, part, node, "console" in boots.get(name, ()))
        try:
            wants, detail = probe(booted, expected)
        except Exception as exc:  # any failure to answer as expected is "down", reported with its cause
            from securemode.infra.lab.health import reason

            out.append(NodeHealth(label, False, _expectation(booted, expected), reason(exc)))
            continue
        out.append(NodeHealth(label, True, wants, detail))
    return out


def driven_nodes(m: Manifest, part: Part) -> list[dict[str, Any]]:
    """The nodes this watcher boots: the primary's (a bare lab's ``power``) or the fallback's (``power-fallback``)."""
    names = part.facts.get("nodes")
    return list(m.nodes) if names is None else [m.node(str(name)) for name in names]


def _boot_specs(part: Part) -> dict[str, tuple[str, ...]]:
    boot_file = part.facts.get("boot_file") or str(Path(part.workdir or ".") / "boot.json")
    try:
        return {name: tuple(s.name for s in specs) for name, specs in read_boot_file(Path(str(boot_file))).items()}
    except (OSError, ValueError, KeyError):
        return {}


def _booted(m: Manifest, part: Part, node: dict[str, Any], console: bool) -> tuple[Booted, Expected | None]:
    from securemode.infra.twin.state.twin_state import DB_NAME, TwinState

    state_dir = Path(str(part.facts["state_dir"]))
    installed = registered = False
    sip_tcp_port = 5060
    expected: Expected | None = None
    if (state_dir / DB_NAME).exists():
        state = TwinState(state_dir, readonly=True)
        try:
            installed = state.seeded
            if installed:
                registered = state.node_config(str(node["name"])) is not None
                sip_tcp_port = state.security_settings().sip_tcp_port
        finally:
            state.close()
    if installed:
        expected = read_expected(m, state_dir)
    ports = {**DEFAULT_PORTS, **{k: int(v) for k, v in dict(part.facts.get("ports") or {}).items()}}
    manager = not node.get("conferencing", True)
    booted = Booted(
        m,
        str(node["name"]),
        str(node["address"]),
        ports,
        manager,
        console,
        installed,
        registered or (manager and installed),
        sip_tcp_port,
    )
    return booted, expected


def _expectation(b: Booted, expected: Expected | None) -> str:
    """What a powered-on node should show now (printed with its result)."""
    wants = []
    if b.console:
        closed = expected is not None and expected.console_closed
        wants.append("SSH closed after security wizard" if closed else "SSH console")
    if b.registered and expected is not None:
        if not b.manager:
            wants.append(f"SIP/TCP {b.sip_tcp_port}")
        wants.append(f"HTTPS {expected.certificate(b.name)}")
    elif not b.manager:
        wants.append("booted, waiting for the Management Node to know it")
    elif not b.console:
        wants.append("booted, not installed (no console in this lab)")
    return ", ".join(wants)


def probe_booted(b: Booted, expected: Expected | None) -> tuple[str, str]:
    """Probe a powered-on node against :func:`_expectation`; raises when it does not answer so."""
    from securemode.infra.lab import health

    answered = []
    if b.console:
        ssh = Endpoint(b.address, b.ports["ssh"], "ssh")
        if expected is not None and expected.console_closed:
            answered.append(f"SSH {health.closed_port(ssh.host, ssh.port, expected.drop_closed_ports)}")
        else:
            answered.append(f"SSH {ssh.port} {health.ssh_banner(ssh)}")
    if b.registered and expected is not None:
        if not b.manager:
            health.tcp_connect(b.address, b.sip_tcp_port)
            answered.append(f"SIP/TCP {b.address}:{b.sip_tcp_port}")
        https = Endpoint(b.address, b.ports["https"], "https")
        answered.append(health.https_as_expected(b.manifest, b.name, https, expected.certificate(b.name)))
    elif not b.console or not b.manager:
        answered.append("processes running" + ("" if b.manager else "; the Management Node does not know it yet"))
    return _expectation(b, expected), ", ".join(answered)
