"""A lab's power supervisor: a node runs while the VM named after it is powered on in vcsim (the bare
profile's nodes, and with ``lab up --contingency`` the fallback's nodes on every profile, each deployment
with a watcher of its own: :mod:`securemode.infra.lab.power_part`).

``python -m securemode.infra.lab.power_watcher --boot-file B --running-file R …`` follows every VM's
``name`` and ``runtime.powerState`` through the vSphere API (a property collector over a container
view of all VMs, ``WaitForUpdatesEx``): the same API a vSphere client uses, no change to the
simulator, and its first answer is the full state, so a restarted watcher picks up where things are.
When a VM named after a node in the boot file is powered on, it starts that node's processes in the
file's order; when it is powered off (or deleted), it stops them in reverse order, so the node's
sockets close. Everything a node keeps (the twin's state, the console's host key, an agent's
first-boot certificate) lives in folders that outlive the processes: a power cycle is a reboot; a new VM
under the node's name boots an empty disk (:mod:`securemode.infra.lab.vm_disks`).

``R`` (JSON, rewritten after every change) names the VMs powered on and each running process's
identity, so ``lab down`` can stop them even if the watcher itself died. SIGTERM stops every node.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securemode.infra.lab.node_processes import ProcessSpec, read_boot_file
from securemode.infra.lab.processes import ProcessIdentity, is_running, stop, write_ready
from securemode.infra.lab.vm_disks import FILE as DISKS_FILE
from securemode.infra.lab.vm_disks import Disks

log = logging.getLogger("securemode.infra.lab.power")
POWERED_ON = "poweredOn"
WAIT_S = 1


@dataclass
class PowerStates:
    """VM moid -> (name, power state), as the property collector reported them."""

    vms: dict[str, tuple[str, str]] = field(default_factory=dict)

    def apply(self, update: Any) -> None:
        for filter_set in update.filterSet or []:
            for obj in filter_set.objectSet or []:
                moid = obj.obj._moId
                if obj.kind == "leave":
                    self.vms.pop(moid, None)
                    continue
                name, power = self.vms.get(moid, ("", ""))
                for change in obj.changeSet or []:
                    if change.name == "name":
                        name = str(change.val)
                    elif change.name == "runtime.powerState":
                        power = str(change.val)
                self.vms[moid] = (name, power)

    def powered_on(self) -> set[str]:
        return {name for name, power in self.vms.values() if power == POWERED_ON}

    def powered_on_ids(self) -> dict[str, str]:
        """Name -> managed object id of every VM powered on."""
        return {name: moid for moid, (name, power) in self.vms.items() if power == POWERED_ON}


@dataclass
class Nodes:
    """The node processes this watcher started, per node name."""

    boots: dict[str, list[ProcessSpec]]
    running_file: Path
    running: dict[str, list[ProcessIdentity]] = field(default_factory=dict)

    def reconcile(self, powered_on: set[str], vm_ids: dict[str, str] | None = None) -> None:
        """Boot the nodes whose VM is on and stop the others; ``vm_ids`` (name -> VM id) gives a new VM under a
        node's name an empty disk (:mod:`securemode.infra.lab.vm_disks`)."""
        wanted = powered_on & set(self.boots)
        for name in sorted(set(self.running) - wanted):
            log.info("%s powered off: stopping its processes", name)
            for identity in reversed(self.running.pop(name)):
                stop(identity)
        for name in sorted(wanted - set(self.running)):
            log.info("%s powered on: booting", name)
            if vm_ids and name in vm_ids:
                Disks(self.running_file.with_name(DISKS_FILE)).attach(name, vm_ids[name], self.boots[name])
            self.running[name] = [spec.spawn().identity() for spec in self.boots[name]]
        for name, identities in self.running.items():
            dead = [i.pid for i in identities if not is_running(i)]
            if dead:
                log.error("%s: process(es) %s ended while the VM is powered on", name, dead)
        self.write(powered_on)

    def write(self, powered_on: set[str]) -> None:
        data = {
            "powered_on": sorted(powered_on),
            "running": {n: [i.to_dict() for i in ids] for n, ids in sorted(self.running.items())},
        }
        tmp = self.running_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.running_file)

    def stop_all(self) -> None:
        for name in sorted(self.running):
            for identity in reversed(self.running[name]):
                with contextlib.suppress(Exception):
                    stop(identity)
        self.running.clear()
        self.write(set())


def _connect(args: argparse.Namespace) -> Any:
    from pyVim.connect import SmartConnect

    from securemode.vsphere.trust import pinned_context

    return SmartConnect(  # type: ignore[no-untyped-call]
        host=args.host,
        port=args.port,
        user=args.username,
        pwd=args.password_file.read_text().strip(),
        sslContext=pinned_context(args.tls_sha256),
    )


def _filter(si: Any) -> Any:
    """A property collector of its own reporting every VM's name and power state (VMs come and go)."""
    from pyVmomi import vmodl

    from securemode.vsphere.vmodl import vim

    content = si.RetrieveContent()
    collector = content.propertyCollector.CreatePropertyCollector()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    pc = vmodl.query.PropertyCollector
    traversal = pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    spec = pc.FilterSpec(
        objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[traversal])],
        propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "runtime.powerState"])],
    )
    collector.CreateFilter(spec, partialUpdates=True)
    return collector


def watch(args: argparse.Namespace, nodes: Nodes, done: threading.Event) -> None:
    from pyVim.connect import Disconnect
    from pyVmomi import vmodl

    si = _connect(args)
    try:
        collector = _filter(si)
        states, version, ready = PowerStates(), "", False
        options = vmodl.query.PropertyCollector.WaitOptions(maxWaitSeconds=WAIT_S)
        while not done.is_set():
            update = collector.WaitForUpdatesEx(version, options)
            if update is not None:
                version = update.version
                states.apply(update)
            nodes.reconcile(states.powered_on(), states.powered_on_ids())
            if not ready:
                write_ready(args.ready_file, {"pid": os.getpid(), "powered_on": sorted(states.powered_on())})
                ready = True
    finally:
        with contextlib.suppress(Exception):
            Disconnect(si)  # type: ignore[no-untyped-call]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.lab.power_watcher", description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--tls-sha256", required=True, help="the simulator's certificate (hex SHA-256 of the DER)")
    parser.add_argument("--boot-file", type=Path, required=True)
    parser.add_argument("--running-file", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    nodes = Nodes(read_boot_file(args.boot_file), args.running_file)
    try:
        watch(args, nodes, done)
    finally:
        nodes.stop_all()
    return 0


def running_identities(running_file: Path) -> list[ProcessIdentity]:
    """Every node process the watcher recorded (for ``lab down`` when the watcher is gone)."""
    try:
        data = json.loads(running_file.read_text())
    except (OSError, ValueError):
        return []
    return [ProcessIdentity.from_dict(i) for ids in data.get("running", {}).values() for i in ids]


if __name__ == "__main__":
    raise SystemExit(main())
