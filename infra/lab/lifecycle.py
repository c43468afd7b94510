"""``lab up`` and ``lab down``: start every part in its own process, record them, stop them by PID.

``up`` runs the slow parts side by side (service daemons and vcsim in threads, the twin, the netns
keeper, the console and the node agents as child processes), waits until each answers, registers
the conferencing nodes, writes the 0600 secret files, the site file and the manifest, and returns;
the parts keep running. ``down`` (any process) reads the manifest and stops each recorded process
only if its PID, start time and command line still match, removes the namespace and temp folders,
and deletes the run folder, the site file and the manifest. The lab CA is kept for the next ``up``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib.util
import secrets as secrets_module
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securemode.infra.lab import power_part, services_part, site_file, twin_part, vsphere_part
from securemode.infra.lab.manifest import Endpoint, Manifest, Part, read_manifest, write_manifest
from securemode.infra.lab.node_processes import DEFAULT_REBOOT_DELAY_S, agent_spec, console_spec
from securemode.infra.lab.plan import (
    LabPlan,
    NodePlan,
    SiteNetwork,
    free_block,
    host_number,
    loopback_network,
    make_plan,
    namespace_network,
)
from securemode.infra.lab.power_watcher import running_identities
from securemode.infra.lab.processes import Child, ProcessIdentity, is_running, spawn_python, stop
from securemode.infra.lab.profiles import DEFAULT_PROFILE, PROFILES, Profile
from securemode.infra.lab.secret_files import SecretFiles, new_password
from securemode.infra.netns import netns_unavailable_reason
from securemode.infra.ova import build_ova
from securemode.infra.pki.ca import LabCA
from securemode.infra.services import chrony
from securemode.infra.services.process import ServiceHandle
from securemode.infra.services.slapd import SlapdHandle
from securemode.infra.vcsim import Vcsim
from securemode.paths import state_dir

READY_TIMEOUT_S = 30.0
DEFAULT_SYNC_INTERVAL_S = 3.0
_BLOCK_LOCK = Path(tempfile.gettempdir()) / "securemode-lab-blocks.lock"
MANAGEMENT_OVA = "pexip-mgr-standin.ova"  # the site file names it (management_node.ova)
# Stop order: the agents first (they hold sockets in the namespace), the namespace keeper last but one.
_STOP_ORDER = ("power", "node", "console", "twin", "netns", "vcsim", "slapd", "chronyd", "rsyslogd", "dnsmasq")


class LabError(RuntimeError):
    """``lab up`` could not bring the lab up (everything it had started is stopped again)."""


class LabDegraded(LabError):
    """A lab runs in this state folder but some of its parts are dead; ``up`` names them, starts nothing."""


def lab_dir() -> Path:
    path = state_dir() / "lab"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.touch(exist_ok=True)
    with path.open("r") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@dataclass(frozen=True)
class UpOptions:
    nodes: int = 2
    profile: str = DEFAULT_PROFILE
    sync_interval_s: float = DEFAULT_SYNC_INTERVAL_S
    block: int | None = None
    console: bool = True
    netns: bool = True
    reboot_delay_s: float = DEFAULT_REBOOT_DELAY_S
    # The fallback deployment (site file section ``contingency``): its VMs, powered on in the simulator, boot
    # fresh nodes on either profile. Off by default: only a lab that builds a fallback needs it.
    contingency: bool = False


@dataclass
class UpResult:
    manifest: Manifest
    already_running: bool = False
    marks: dict[str, float] = field(default_factory=dict)


def running_manifest(directory: Path) -> Manifest | None:
    """The manifest of a lab whose processes are (at least partly) still running there, else None."""
    manifest = read_manifest(directory)
    if manifest is None:
        return None
    alive = [p for p in manifest.parts.values() if p.process is not None and is_running(p.process)]
    return manifest if alive else None


def dead_parts(manifest: Manifest) -> list[str]:
    """Names of the recorded parts whose process is gone (a lab with some of them is degraded)."""
    return sorted(p.name for p in manifest.parts.values() if p.process is not None and not is_running(p.process))


class _Startup:
    """Bookkeeping of one ``up``: timing marks and everything started so far (for rollback)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.marks: dict[str, float] = {}
        self.identities: list[ProcessIdentity] = []
        self.cleanups: list[Callable[[], None]] = []

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic() - self.t0

    def track(self, child: Child) -> Child:
        self.identities.append(child.identity())
        return child

    def rollback(self) -> None:
        for identity in reversed(self.identities):
            stop(identity, timeout=3.0)
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()


def up(options: UpOptions) -> UpResult:
    """Start the lab in this state folder (a no-op when one is already running there)."""
    directory = lab_dir()
    with _locked(directory / ".lock"):
        running = running_manifest(directory)
        if running is not None:
            dead = dead_parts(running)
            if dead:
                raise LabDegraded(f"the lab runs degraded: {', '.join(dead)} stopped. Fix: securemode lab down && "
                               "securemode lab up")
            if options.contingency and not running.fallback_nodes:
                raise LabError("the running lab was started without --contingency: it cannot boot a fallback. "
                               "Fix: securemode lab down && securemode lab up --contingency")
            return UpResult(running, already_running=True)
        if read_manifest(directory) is not None:
            _down(directory)  # leftovers of a lab that died: clear them first
        startup = _Startup()
        try:
            with _locked(_BLOCK_LOCK):
                manifest = _start(directory, options, startup)
        except BaseException:
            startup.rollback()
            raise
        return UpResult(manifest, marks=startup.marks)


def _start(directory: Path, options: UpOptions, s: _Startup) -> Manifest:
    profile = PROFILES[options.profile]
    plan = make_plan(options.nodes, free_block(options.block), minimum=0 if profile.power_driven else 1,
                     contingency=options.contingency)
    run = directory / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(mode=0o700)
    ca = LabCA.ensure(directory / "ca")
    secrets = SecretFiles(directory / "secrets")
    _write_secrets(secrets, plan)
    ntp_keys = chrony.default_keys()
    for key in ntp_keys:
        secrets.write(f"ntp-key-{key.key_id}", key.hex_secret)
    s.mark("prepared")
    netns_reason = netns_unavailable_reason() if options.netns else "disabled with --no-netns"
    twin_state = power_part.twin_state_of(run)

    keeper = s.track(_spawn_keeper(plan, run, twin_state, options)) if netns_reason is None else None
    netns_ready = keeper.ready_path if keeper else None
    with_console = options.console and _has_console()
    # Everything else starts now too and waits for what it needs (namespace, twin state) by itself; on a
    # power-driven profile the nodes' processes start when their VMs are powered on instead.
    twin = None if profile.power_driven else s.track(twin_part.spawn(
        plan, run / "twin", twin_state, secrets.directory / "admin-password", ca.root_path, netns_ready))
    console = (s.track(_spawn_console(plan, run, twin_state, secrets, options.reboot_delay_s))
               if with_console and twin else None)
    agents = {n.name: s.track(_spawn_agent(n, plan, run, twin_state, options, netns_ready, console is not None))
              for n in profile.agents_at_boot(plan)}
    s.mark("spawned")

    with ThreadPoolExecutor(max_workers=8) as pool:
        sim_future = pool.submit(_start_vsphere, s, profile, plan)
        service_futures = {
            name: pool.submit(_timed, s, name, starter)
            for name, starter in services_part.starters(plan, ca, run / "services", ntp_keys).items()
        }
        netns_facts = keeper.wait_ready(time.monotonic() + READY_TIMEOUT_S) if keeper else None
        network = namespace_network(plan, netns_facts) if netns_facts else loopback_network(plan)
        if keeper:
            s.mark("netns")
        service_futures.update({  # DNS answers with the site addresses, known now
            name: pool.submit(_timed, s, name, starter)
            for name, starter in services_part.dns_starters(plan, run / "services", network).items()
        })
        twin_facts = twin.wait_ready(time.monotonic() + READY_TIMEOUT_S) if twin else None
        if twin_facts is not None:
            s.mark("twin")
            admin = ("admin", secrets.read("admin-password"))
            node_passwords = [secrets.read(f"node-password-{n.name}") for n in plan.conferencing]
            facts = twin_facts
            profile.register_nodes(plan, lambda: twin_part.register_conferencing_nodes(
                facts["base_url"], facts["fingerprint_sha256"], admin, plan, network, node_passwords))
            s.mark("registered")
        console_facts = console.wait_ready(time.monotonic() + READY_TIMEOUT_S) if console else None
        if console:
            s.mark("console")
        agent_facts = {}
        for name, child in agents.items():
            agent_facts[name] = child.wait_ready(time.monotonic() + READY_TIMEOUT_S)
            s.mark(f"agent-{name}")
        sim = sim_future.result()
        secrets.write("vsphere-password", sim.password)
        boot = power_part.BootSettings(options.sync_interval_s, options.reboot_delay_s, with_console, ca.root_path,
                                       netns_ready)
        deployments = _power_driven(profile, plan, run, secrets)
        vsphere_password = secrets.directory / "vsphere-password"
        watchers = {d.part: s.track(power_part.spawn_watcher(d, plan, boot, sim, vsphere_password))
                    for d in deployments}
        watcher_facts = {}
        for d in deployments:
            watcher_facts[d.part] = watchers[d.part].wait_ready(time.monotonic() + READY_TIMEOUT_S)
            s.mark(d.part)
        services = {name: future.result(READY_TIMEOUT_S) for name, future in service_futures.items()}

    slapd_handle = services["slapd"]
    assert isinstance(slapd_handle, SlapdHandle)
    secrets.write("ldap-bind-password", slapd_handle.bind_password)
    secrets.write("ldap-admin-password", slapd_handle.admin_password)
    for role, user in slapd_handle.users.items():
        secrets.write(f"ldap-{role}-password", user.password)
    manifest = Manifest(
        lab_dir=directory,
        profile=profile.name,
        block=plan.block,
        root=plan.ports["https"] == 443,
        domain=plan.domain,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        site_file=directory / "site.yaml",
        ca={"dir": str(ca.directory), "root": str(ca.root_path), "intermediate": str(ca.intermediate_path),
            "chain": str(ca.chain_path)},
        secrets_dir=secrets.directory,
        sync_interval_s=options.sync_interval_s,
        nodes=[_node_entry(n, plan, network) for n in plan.nodes],
        fallback_nodes=[_node_entry(n, plan, network) for n in plan.fallback],
        netns=netns_facts,
        netns_unavailable=netns_reason,
    )
    _record_parts(manifest, plan, network, twin, twin_facts, keeper, netns_facts, console, console_facts, agents,
                  agent_facts, sim, services)
    for d in deployments:
        manifest.add(power_part.watcher_part(d, watchers[d.part], watcher_facts[d.part], plan, network))
    inputs = site_file.SiteInputs(
        plan=plan, network=network,
        https_fingerprint_sha256=str(twin_facts["fingerprint_sha256"]) if twin_facts else None,
        # a Management Node to deploy: the bare primary's, or the fallback's on any profile
        ova=build_ova(directory / "images" / MANAGEMENT_OVA) if profile.power_driven or plan.fallback else None,
        vsphere=vsphere_part.facts(sim), ldap=manifest.parts["slapd"].facts,
        syslog_received=manifest.parts["syslog"].facts["received"], ca_dir=ca.directory, ca_root=ca.root_path,
        ca_intermediate=ca.intermediate_path, secrets=secrets, lab_id=secrets_module.token_hex(4))
    site_file.write(inputs, manifest.site_file)
    s.mark("site-file")
    manifest.timings = dict(s.marks)
    manifest.up_wall_s = time.monotonic() - s.t0
    write_manifest(manifest)
    return manifest


def _power_driven(profile: Profile, plan: LabPlan, run: Path, secrets: SecretFiles) -> list[power_part.Deployment]:
    """The deployments whose nodes follow their VMs' power: the primary on a power-driven profile, and the
    fallback of a lab started with ``--contingency`` on every profile."""
    primary = power_part.primary(plan, run, secrets.directory) if profile.power_driven else None
    return [d for d in (primary, power_part.fallback(plan, run, secrets.directory)) if d is not None]


def _node_entry(node: NodePlan, plan: LabPlan, network: SiteNetwork) -> dict[str, Any]:
    """A node in the manifest: ``address`` is its site address; ``loopback_address`` is where its
    own processes bind in the root namespace (the twin and console behind the relay)."""
    return {"name": node.name, "hostname": node.hostname, "fqdn": node.fqdn(plan.domain),
            "address": network.address(node), "loopback_address": node.address, "conferencing": node.conferencing,
            "netns_address": network.address(node) if network.in_namespace else None}


def _start_vsphere(s: _Startup, profile: Profile, plan: LabPlan) -> Vcsim:
    sim = vsphere_part.start(plan.address("vcsim"), profile.vcsim_vms(plan))
    s.identities.append(ProcessIdentity(sim.pid, _ticks(sim.pid), "vcsim-ext"))
    s.cleanups.append(lambda: shutil.rmtree(sim.state_dir, ignore_errors=True))
    s.mark("vcsim")
    profile.prepare_vsphere(sim, plan)
    s.mark("vsphere-prepared")
    return sim


def _timed(s: _Startup, name: str, starter: Callable[[], ServiceHandle]) -> ServiceHandle:
    handle = starter()
    s.identities.append(ProcessIdentity(handle.pid, _ticks(handle.pid), handle.executable))
    s.mark(name)
    return handle


def _ticks(pid: int) -> int:
    from securemode.infra.lab.processes import start_ticks

    ticks = start_ticks(pid)
    if ticks is None:
        raise LabError(f"process {pid} ended during start-up")
    return ticks


def _has_console() -> bool:
    """Whether the console twin is installed (looked up, not imported: asyncssh takes a second to load)."""
    return importlib.util.find_spec("securemode.infra.console") is not None


def _write_secrets(secrets: SecretFiles, plan: LabPlan) -> None:
    secrets.write("admin-password", new_password())
    secrets.write("contingency-admin-password", new_password())
    secrets.write("snmp-auth-password", new_password(16))
    secrets.write("snmp-priv-password", new_password(16))
    secrets.write("snmp-community", new_password(12))
    for node in plan.conferencing:
        secrets.write(f"node-password-{node.name}", new_password())


def _spawn_keeper(plan: LabPlan, run: Path, twin_state: Path, options: UpOptions) -> Child:
    args = ["--twin-state", str(twin_state), "--https-port", str(plan.ports["https"]),
            "--snmp-port", str(plan.ports["snmp"]), "--sync-interval", str(options.sync_interval_s)]
    if options.console and _has_console():
        args += ["--ssh-port", str(plan.ports["ssh"])]
    for node in plan.nodes:
        args += ["--node", f"{node.name}:{node.index}"]
    if plan.fallback_manager is not None:  # addresses end as on loopback (.200+); ports follow its own manager
        fallback = power_part.fallback_run(run)
        args += ["--fallback-twin-state", str(power_part.twin_state_of(fallback)),
                 "--fallback-running-file", str(power_part.running_file_of(fallback)),
                 "--fallback-manager", f"{plan.fallback_manager.name}:{host_number(plan.fallback_manager)}"]
        for node in plan.fallback_conferencing:
            args += ["--fallback-node", f"{node.name}:{host_number(node)}"]
    return spawn_python("netns", "securemode.infra.lab.netns_keeper", args, run / "netns")


def _spawn_console(plan: LabPlan, run: Path, twin_state: Path, secrets: SecretFiles, reboot_delay_s: float) -> Child:
    return console_spec(plan, run, twin_state, secrets.directory / "admin-password", reboot_delay_s).spawn()


def _spawn_agent(node: NodePlan, plan: LabPlan, run: Path, twin_state: Path, options: UpOptions,
                 netns_ready: Path | None, console: bool) -> Child:
    return agent_spec(node, plan, run, twin_state, options.sync_interval_s, netns_ready, console).spawn()


def _node_endpoints(facts: dict[str, Any], plan: LabPlan) -> dict[str, Endpoint]:
    """Where a node agent answers at its site address: the namespace listeners when there are any."""
    where = facts.get("netns") or facts
    endpoints = {f"sip_{t}": Endpoint(where["address"], int(port), "udp" if t == "udp" else "tcp")
                 for t, port in where.get("sip", {}).items()}
    endpoints["snmp"] = Endpoint(where["address"], int(where["snmp_port"]), "udp")
    if where.get("https_port"):
        endpoints["https"] = Endpoint(where["address"], int(where["https_port"]), "https")
    relayed = {plan.ports["https"]: ("https", "https"), plan.ports["ssh"]: ("ssh", "ssh")}
    for port in facts.get("relays", []):
        name, proto = relayed[int(port)]
        endpoints[name] = Endpoint(where["address"], int(port), proto)
    return endpoints


def _record_parts(m: Manifest, plan: LabPlan, network: SiteNetwork, twin: Child | None,
                  twin_facts: dict[str, Any] | None,
                  keeper: Child | None, netns_facts: dict[str, Any] | None, console: Child | None,
                  console_facts: dict[str, Any] | None, agents: dict[str, Child],
                  agent_facts: dict[str, dict[str, Any]], sim: Any, services: dict[str, ServiceHandle]) -> None:
    mgr = plan.manager
    m.add(Part("vcsim", "vcsim", ProcessIdentity(sim.pid, _ticks(sim.pid), "vcsim-ext"),
               {"sdk": Endpoint(sim.host, sim.port, "https")}, str(sim.state_dir),
               {"url": sim.url, "username": sim.username, "tls_sha256": sim.tls_sha256,
                "tls_fingerprint": sim.tls_fingerprint}))
    site_host = network.address(mgr)
    if twin is not None and twin_facts is not None:
        m.add(Part("twin", "twin", twin.identity(), {"https": Endpoint(mgr.address, plan.ports["https"], "https")},
                   str(twin.log_path.parent),
                   {"base_url": twin_facts["base_url"], "fingerprint_sha256": twin_facts["fingerprint_sha256"],
                    "site_url": f"https://{site_host}:{plan.ports['https']}",
                    "state_dir": str(twin.log_path.parent.parent / "twin-state"), "admin_username": "admin"}))
    if keeper is not None and netns_facts is not None:
        m.add(Part("netns", "netns", keeper.identity(), {}, str(keeper.log_path.parent), dict(netns_facts)))
    if console is not None and console_facts is not None:
        m.add(Part("console", "console", console.identity(),
                   {"ssh": Endpoint(mgr.address, int(console_facts["port"]), "ssh")}, str(console.log_path.parent),
                   dict(console_facts)))
    for name, child in agents.items():
        facts = agent_facts[name]
        m.add(Part(f"node-{name}", "node", child.identity(), _node_endpoints(facts, plan), str(child.log_path.parent),
                   facts))
    for name, handle in services.items():
        part = m.add(services_part.part_of(name, handle))
        if name in ("ntp1", "ntp2"):
            part.facts["site_key_id"] = site_file.NTP_ASSIGNMENT[0 if name == "ntp1" else 1][1]


def down() -> tuple[Manifest | None, list[str]]:
    """Stop the lab of this state folder; returns its manifest (None if there was none) and what was stopped."""
    directory = lab_dir()
    with _locked(directory / ".lock"):
        manifest = read_manifest(directory)
        return manifest, _down(directory)


def _down(directory: Path) -> list[str]:
    manifest = read_manifest(directory)
    stopped: list[str] = []
    if manifest is not None:
        parts = sorted(manifest.parts.values(), key=lambda p: _STOP_ORDER.index(p.kind) if p.kind in _STOP_ORDER
                       else len(_STOP_ORDER))
        for part in parts:
            if part.process is not None and stop(part.process):
                stopped.append(part.name)
            if part.kind == "power":  # what a dead watcher left running
                for identity in running_identities(Path(str(part.facts["running_file"]))):
                    if stop(identity):
                        stopped.append(identity.marker.rsplit(".", 1)[-1])
        _remove_leftovers(manifest)
        manifest.site_file.unlink(missing_ok=True)
    shutil.rmtree(directory / "run", ignore_errors=True)
    shutil.rmtree(directory / "secrets", ignore_errors=True)
    (directory / "manifest.json").unlink(missing_ok=True)
    return stopped


def _remove_leftovers(manifest: Manifest) -> None:
    """What a crashed part may have left: its namespace and veth, vcsim's datastores, slapd's socket dir."""
    ns = manifest.netns
    if ns and (Path("/run/netns") / str(ns["name"])).exists():
        for argv in (["ip", "link", "del", str(ns["host_ifname"])], ["ip", "netns", "del", str(ns["name"])]):
            subprocess.run(argv, capture_output=True, timeout=10, check=False)
    vcsim = manifest.parts.get("vcsim")
    if vcsim is not None and vcsim.workdir:
        shutil.rmtree(vcsim.workdir, ignore_errors=True)
    for part in manifest.parts.values():
        for extra in part.facts.get("cleanup_dirs", []):
            shutil.rmtree(extra, ignore_errors=True)


def netns_exists(manifest: Manifest) -> bool:
    return bool(manifest.netns) and (Path("/run/netns") / str(manifest.netns["name"])).exists()  # type: ignore[index]
