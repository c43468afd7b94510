"""One twin node's network side, as a process: ``python -m securemode.infra.lab.node_agent --name conf01 …``.

Every ``--sync-interval`` seconds (the lab's replication delay: a real node pulls its configuration
from the Management Node about once a minute) it reads the node's configuration from the twin state
and applies what changed: the SNMP agent follows ``snmp_*``, the SIP listeners (UDP/TCP 5060, TLS
5061) follow the security wizard's ports and TLS posture with the node's certificate. With
``--netns`` the same listeners also run on the node's address inside the lab namespace, where the
closed-port policy holds and which is the node's site address; a conferencing node also serves
HTTPS there (:mod:`securemode.infra.lab.https_listener`), the management node relays the twin's HTTPS and the
console's SSH there, and forwards audit events to its syslog servers as they are logged (every
``AUDIT_FORWARD_S``: a node's rsyslog does not wait for replication). A node with no certificate
assigned serves a self-signed one it made at first boot, as a real node does. SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securemode.infra.lab.https_listener import HttpsListener
from securemode.infra.lab.netns_attach import AttachedNamespace
from securemode.infra.lab.node_settings import AgentSettings, agent_settings
from securemode.infra.lab.processes import read_ready_file, write_ready
from securemode.infra.lab.relay import TcpRelay
from securemode.infra.lab.syslog_forwarder import AuditForwarder
from securemode.infra.lab.twin_reader import TwinReader
from securemode.infra.netns import NetNamespace
from securemode.infra.nodes import SipListener, SnmpAgent
from securemode.infra.twin import pki

log = logging.getLogger("securemode.infra.lab.node")
SELF_SIGNED_BITS = 2048
AUDIT_FORWARD_S = 0.2  # how often new audit events are sent on: a node logs to syslog as events happen


def first_boot_identity(workdir: Path, fqdn: str, hostname: str, address: str) -> tuple[str, str]:
    """The node's own self-signed certificate and key, made once and kept in its workdir (key 0600)."""
    cert_path, key_path = workdir / "self-signed.pem", workdir / "self-signed.key"
    if cert_path.exists() and key_path.exists():
        return cert_path.read_text(), key_path.read_text()
    cert_pem, key_pem = pki.self_signed(fqdn, [hostname, address], SELF_SIGNED_BITS)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key_pem)
    cert_path.write_text(cert_pem)
    return cert_pem, key_pem


@dataclass
class Listeners:
    """The SNMP agent and SIP listeners on one address (loopback, or the namespace)."""

    snmp: SnmpAgent
    sip: SipListener

    def start(self) -> None:
        self.snmp.start()
        self.sip.start()

    def apply(self, wanted: AgentSettings, current: AgentSettings | None) -> None:
        if current is None or wanted.snmp != current.snmp:
            self.snmp.reconfigure(wanted.snmp)
        if current is None or wanted.sip != current.sip:
            self.sip.reconfigure(wanted.sip)

    def stop(self) -> None:
        for stop in (self.snmp.stop, self.sip.stop):
            with contextlib.suppress(Exception):
                stop()

    def facts(self) -> dict[str, Any]:
        return {"snmp_port": self.snmp.port, "snmp_answering": self.snmp.answering, "sip": dict(self.sip.ports)}


@dataclass
class NodeAgent:
    """The agent's state between syncs."""

    name: str
    reader: TwinReader
    workdir: Path
    address: str
    snmp_port: int
    netns: NetNamespace | None = None
    ns_address: str | None = None
    forward_audit: bool = False
    https_port: int | None = None  # a conferencing node's web side, on its namespace address
    listeners: list[Listeners] = field(default_factory=list)
    https: HttpsListener | None = None
    applied: AgentSettings | None = None
    forwarder: AuditForwarder | None = None
    problem: str | None = None
    report_after_s: float | None = None  # bare lab: register with the Management Node this long after boot
    booted_at: float = 0.0
    reported: bool = False

    def wait_for_config(self, timeout: float, stop: threading.Event) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            node = self.reader.node_config(self.name)
            if node is not None:
                return node
            if timeout > 0 and time.monotonic() > deadline:
                break
            stop.wait(0.05 if timeout > 0 else 0.5)
        if stop.is_set():
            raise SystemExit(0)
        raise SystemExit(f"node {self.name}: no configuration on the Management Node within {timeout:.0f}s")

    def identity(self, node: dict[str, Any]) -> tuple[str, str]:
        assigned = node.get("tls")
        if assigned:
            return str(assigned[0]), str(assigned[1])
        fqdn = f"{node.get('hostname', self.name)}.{node.get('domain', '')}".strip(".")
        return first_boot_identity(self.workdir, fqdn, str(node.get("hostname", self.name)), self.site_address)

    @property
    def site_address(self) -> str:
        """The node's address as the site knows it: in the namespace when there is one."""
        return self.ns_address or self.address

    def wanted(self, node: dict[str, Any]) -> AgentSettings | None:
        security = self.reader.security_settings()
        return None if security is None else agent_settings(node, security, self.identity(node))

    def boot(self, node: dict[str, Any]) -> None:
        wanted = self.wanted(node)
        if wanted is None:
            raise SystemExit(f"node {self.name}: the Management Node has no security settings")
        hostname = str(node.get("hostname", self.name))
        self.listeners.append(Listeners(SnmpAgent(hostname, self.address, self.snmp_port, wanted.snmp),
                                        SipListener(hostname, self.address, wanted.sip)))
        if self.netns is not None and self.ns_address:
            ns_snmp = SnmpAgent(hostname, self.ns_address, self.snmp_port, wanted.snmp, netns=self.netns)
            ns_sip = SipListener(hostname, self.ns_address, wanted.sip, netns=self.netns)
            self.listeners.append(Listeners(ns_snmp, ns_sip))
            if self.https_port is not None:
                self.https = HttpsListener(hostname, self.ns_address, self.https_port, wanted.https, self.netns)
        for listeners in self.listeners:
            listeners.start()
        if self.https is not None:
            self.https.start()
        self.applied = wanted
        self._note(wanted)
        self.booted_at = time.time()
        if self.forward_audit:
            state = self.reader.state
            last = state.audit_events()[-1]["seq"] if state and state.audit_events() else 0
            fqdn = f"{hostname}.{node.get('domain', '')}".strip(".")
            self.forwarder = AuditForwarder(fqdn, last)

    def report_status(self) -> None:
        """Register with the Management Node once the boot delay has passed (DEPLOYED, SYNCED), then say at
        every sync that the node is in contact, as a node's status does."""
        state = self.reader.state
        if self.report_after_s is None or state is None:
            return
        now = time.time()
        if not self.reported and now - self.booted_at < self.report_after_s:
            return
        stamp = _iso(now)
        if not self.reported:
            state.report_node_status(self.name, deploy_status="DEPLOYED", sync_status="SYNCED",
                                     boot_time=_iso(self.booted_at), last_attempted_contact=stamp, last_updated=stamp)
            self.reported = True
            log.info("node %s: registered with the Management Node (DEPLOYED, SYNCED)", self.name)
        else:
            state.report_node_status(self.name, last_attempted_contact=stamp, last_updated=stamp)

    def sync(self) -> None:
        """One replication round: apply what changed, forward new audit events, report in."""
        node = self.reader.node_config(self.name)
        if node is None:
            return
        wanted = self.wanted(node)
        if wanted is not None and wanted != self.applied:
            for listeners in self.listeners:
                try:
                    listeners.apply(wanted, self.applied)
                except Exception as exc:  # keep the node up; a bad setting is logged, like a node alarm
                    log.error("node %s: applying settings failed: %s", self.name, type(exc).__name__)
            if self.https is not None and (self.applied is None or wanted.https != self.applied.https):
                try:
                    self.https.reconfigure(wanted.https)
                except Exception as exc:
                    log.error("node %s: HTTPS keeps its previous certificate: %s", self.name, type(exc).__name__)
            self.applied = wanted
            self._note(wanted)
        self.report_status()  # after applying: SYNCED means the node runs what it pulled
        self.forward_audit_events(node)

    def forward_audit_events(self, node: dict[str, Any] | None = None) -> None:
        """Send the audit events logged since the last call to the node's syslog servers."""
        if self.forwarder is None or (state := self.reader.state) is None:
            return
        events = state.audit_events(self.forwarder.last_seq)
        if not events:
            return
        node = node or self.reader.node_config(self.name)
        if node is not None:
            self.forwarder.forward(events, node.get("syslog_servers", []), state.trusted_ca_pem())

    def _note(self, wanted: AgentSettings) -> None:
        if wanted.snmp_problem != self.problem:
            self.problem = wanted.snmp_problem
            if self.problem:
                log.warning("node %s: %s", self.name, self.problem)

    def facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "address": self.address, **self.listeners[0].facts()}
        if len(self.listeners) > 1:
            out["netns"] = {"address": self.ns_address, **self.listeners[1].facts()}
            if self.https is not None:
                out["netns"]["https_port"] = self.https.port
        return out

    def stop(self) -> None:
        if self.https is not None:
            with contextlib.suppress(Exception):
                self.https.stop()
        for listeners in self.listeners:
            listeners.stop()
        self.reader.close()


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m securemode.infra.lab.node_agent", description=__doc__)
    parser.add_argument("--twin-state", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--snmp-port", type=int, default=161)
    parser.add_argument("--sync-interval", type=float, default=3.0)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--netns-ready-file", type=Path,
                        help="the netns keeper's ready file: the namespace and this node's address in it")
    parser.add_argument("--relay", action="append", default=[], help="NSPORT:HOST:PORT relayed inside the namespace")
    parser.add_argument("--https-port", type=int, help="serve HTTPS on this port of the namespace address")
    parser.add_argument("--forward-audit", action="store_true", help="send audit events to the syslog servers")
    parser.add_argument("--config-timeout", type=float, default=30.0,
                        help="seconds to wait for the Management Node to know this node (0: as long as it runs)")
    parser.add_argument("--report-status-after", type=float,
                        help="report DEPLOYED/SYNCED to the Management Node this many seconds after boot (bare lab)")
    parser.add_argument("--ready-file", type=Path)
    return parser.parse_args(argv)


def _attach(ready_file: Path | None, name: str, timeout: float, stop: threading.Event) -> AttachedNamespace | None:
    """Wait for the keeper's ready file, then attach to the namespace at this node's address."""
    if ready_file is None:
        return None
    facts = read_ready_file(ready_file, timeout, f"node {name}: the lab namespace", stop.is_set)
    return AttachedNamespace(str(facts["name"]), str(facts["addresses"][name]))


def _relays(args: argparse.Namespace, netns: NetNamespace | None) -> list[TcpRelay]:
    if netns is None:
        return []
    relays = []
    for spec in args.relay:
        ns_port, host, port = spec.split(":")
        relays.append(TcpRelay(netns, (netns.address, int(ns_port)), (host, int(port))))
    return relays


def _listening(target: tuple[str, int]) -> bool:
    """Whether a socket listens on ``target`` in this process's (root) namespace; read from /proc, so the
    service is not disturbed by probe connections."""
    host, port = target
    want = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(fields[1] == want and fields[3] == "0A" for fields in (line.split() for line in lines))


class RelaysWhenAnswering:
    """Each relay opens once the service behind it listens, so a booting node's port at its site address opens
    when its service does: the console at power-on, HTTPS once the node is installed. Once open it stays open
    (a console stopped behind it is then a relay that accepts and closes, which no verifier takes for a closed
    port); the console's reboots after a wizard therefore do not close the port at the site address."""

    def __init__(self, relays: list[TcpRelay], stop: threading.Event, poll_s: float = 0.05) -> None:
        self.pending = list(relays)
        self.opened: list[TcpRelay] = []
        self._stop = stop
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="relays", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while self.pending and not self._stop.wait(self._poll_s):
            with self._lock:
                for relay in [r for r in self.pending if _listening(r.target)]:
                    relay.start()
                    self.opened.append(relay)
                    self.pending.remove(relay)

    def pending_targets(self) -> list[str]:
        return [f"{host}:{port}" for host, port in (r.target for r in self.pending)]

    def wait_open(self, timeout: float) -> bool:
        """Whether every relay opened within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline and not self._stop.is_set():
            self._stop.wait(self._poll_s)
        return not self.pending

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for relay in self.opened:
                with contextlib.suppress(Exception):
                    relay.stop()
            self.opened.clear()
            self.pending.clear()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    import signal

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    args.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stoppers: list[Callable[[], None]] = []
    try:
        netns = _attach(args.netns_ready_file, args.name, args.config_timeout, stop)
        agent = NodeAgent(args.name, TwinReader(args.twin_state), args.workdir, args.address, args.snmp_port,
                          netns, netns.address if netns else None, args.forward_audit,
                          args.https_port if netns else None, report_after_s=args.report_status_after)
        relays = _relays(args, netns)
        opened = RelaysWhenAnswering(relays, stop)
        opened.start()  # a fresh node's console answers before it is installed; its web interface after
        stoppers.append(opened.stop)
        agent.boot(agent.wait_for_config(args.config_timeout, stop))
        stoppers.append(agent.stop)
        if args.config_timeout > 0 and not opened.wait_open(args.config_timeout):  # an installed node: all of them
            raise SystemExit(f"node {args.name}: nothing answers behind the relays {opened.pending_targets()}")
        write_ready(args.ready_file, {**agent.facts(), "relays": [r.listen[1] for r in relays], "pid": os.getpid()})
        next_sync = time.monotonic() + args.sync_interval
        while not stop.wait(min(AUDIT_FORWARD_S, args.sync_interval) if agent.forwarder else args.sync_interval):
            if time.monotonic() >= next_sync:
                agent.sync()
                next_sync = time.monotonic() + args.sync_interval
            else:
                agent.forward_audit_events()
    finally:
        for stopper in reversed(stoppers):
            with contextlib.suppress(Exception):
                stopper()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
