"""Stage `nodes` (guide: Pexip Infinity Conferencing Node deployment, manual ESXi deployment): register
each Conferencing Node on the Management Node, deploy the OVA it generates, harden its VM like the
Management Node's, power it on, and wait until it is DEPLOYED and SYNCED.

Verify, per conferencing node and on fresh sessions only: the vSphere read-back of its VM (present and
sized, VLAN, reservations and limits, boot options), the host's IOPS budget with every node counted, its
registration through the Management API, its HTTPS with the platform's TLS posture, and SIP OPTIONS on
the security wizard's ports. The sessions (vSphere, Management API, the network probes) run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from securemode.binding import (
    Binding,
    Call,
    Job,
    Planned,
    Proof,
    SessionRunner,
    Target,
    call,
    checked,
    could_not_check,
    each_at_once,
    planned,
    run_sessions,
)
from securemode.catalogue import BY_ID, Stage
from securemode.console.access import HTTPS_PORT
from securemode.console.answers import desired_security_answers
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.flows.stages.bootstrap import SIP_ROWS
from securemode.flows.stages.host import site_connection
from securemode.pexip.connect import management_api
from securemode.pexip.errors import TransientApiError
from securemode.results import Result
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.nodes import (
    attest_node_bios_passwords,
    ensure_node_boot_options,
    ensure_node_reservations,
    ensure_node_vms,
    ensure_nodes_deployed,
    ensure_nodes_powered_on,
    ensure_registrations,
)
from securemode.tasks.nodes.rows import (
    BOOT_ORDER,
    DEPLOYED,
    FORCE_SETUP,
    IOPS_BUDGET,
    PASSWORD,
    REGISTERED,
    RESERVED,
    VLAN,
)
from securemode.verifiers import api, node_status, port_scan, sip, tls
from securemode.verifiers import vsphere as vv
from securemode.verifiers.api import ApiReader, combine, node_object
from securemode.vsphere import VSphereConnectError

VSPHERE, API, NET = "vsphere", "api", "net"
_TRANSIENT = (VSphereConnectError,)
_BOTH = (TransientApiError, VSphereConnectError)  # steps that read the Management Node and the host


@dataclass(frozen=True)
class NodesProbe:
    """What a nodes verifier needs: the site, the security wizard's answers, and (inside its session) a
    read-only vSphere reader or a Management API reader."""

    loaded: LoadedSite
    want: dict[str, bool | int]
    vsphere: vv.HostReader | None = None
    api: ApiReader | None = None

    @property
    def reader(self) -> vv.HostReader:
        if self.vsphere is None:
            raise RuntimeError("a vSphere check ran outside the vSphere session")
        return self.vsphere

    @property
    def platform(self) -> ApiReader:
        if self.api is None:
            raise RuntimeError("an API check ran outside the API session")
        return self.api


STEPS = {
    step.name: step
    for step in (
        EnsureStep("registrations", ensure_registrations, transient_errors=_BOTH),
        EnsureStep("node_vms", ensure_node_vms, transient_errors=_BOTH),
        EnsureStep("reservations", ensure_node_reservations, transient_errors=_TRANSIENT),
        EnsureStep("boot_options", ensure_node_boot_options, transient_errors=_TRANSIENT),
        EnsureStep("power_on", ensure_nodes_powered_on, transient_errors=_TRANSIENT),
        EnsureStep("bios_password", attest_node_bios_passwords),
        EnsureStep("deployed_and_synced", ensure_nodes_deployed, transient_errors=(TransientApiError,)),
    )
}


def _vsphere(verifier: Callable[..., Result], arguments: Callable[[NodesProbe, Target], Call]) -> Proof[NodesProbe]:
    return Proof(verifier, arguments, session=VSPHERE)


def _net(verifier: Callable[..., Result], arguments: Callable[[NodesProbe, Target], Call]) -> Proof[NodesProbe]:
    return Proof(verifier, arguments, session=NET)


def _bind(control: str, fix: str | None, *proofs: Proof[NodesProbe]) -> Binding[NodesProbe]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, proofs)


def _present(ctx: NodesProbe, t: Target) -> Call:
    return call(ctx.reader, ctx.loaded.site.vsphere.datastore, t.subject.vm.cpus, t.subject.vm.memory_mb)


def _vlan(ctx: NodesProbe, t: Target) -> Call:
    vs = ctx.loaded.site.vsphere
    return call(ctx.reader, vs.networks.vm.port_group, t.subject.vlan, set(vs.reserved_vlans))


def _allocation(aspect: str) -> Callable[[NodesProbe, Target], Call]:
    return lambda ctx, t: call(ctx.reader, aspect=aspect, iops=t.subject.vm.disk_iops_limit)


def _boot(aspect: str) -> Callable[[NodesProbe, Target], Call]:
    return lambda ctx, _t: call(ctx.reader, aspect, ctx.loaded.site.name, PASSWORD)


def _management_bootstrapped(ctx: NodesProbe, _t: Target) -> Call:
    """The Management Node's object carries the installation wizard's answers (read with the admin login)."""
    site = ctx.loaded.site
    node = site.management_node
    return call(
        lambda: node_object(ctx.platform, node, site),
        {"address": str(node.address), "hostname": node.hostname, "domain": node.domain},
    )


def _https(ctx: NodesProbe, t: Target) -> Endpoint:
    return Endpoint(str(t.subject.address), HTTPS_PORT, server_name=t.subject.fqdn)


def _sip(row: str) -> Callable[[NodesProbe, Target], Call]:
    return lambda ctx, t: call(Endpoint(str(t.subject.address), int(ctx.want[row])), SIP_ROWS[row])


def _scan(ctx: NodesProbe, t: Target) -> Call:
    """HTTPS and the wizard's SIP ports must answer, the common service ports stay silent. SNMP's port is left
    out either way: the platform stage turns SNMPv3 on after this one, and its own rows prove it."""
    site = ctx.loaded.site
    allowed = port_scan.allowed_node_ports(site.security_wizard, HTTPS_PORT)
    others = tuple(p for p in port_scan.COMMON_UDP_PORTS if p != site.snmp.port)
    return call(Endpoint(str(t.subject.address), HTTPS_PORT), allowed, extra_udp=others)


BINDINGS: tuple[Binding[NodesProbe], ...] = checked(
    Stage.NODES,
    tuple(STEPS.values()),
    (
        _bind("nodes.after-management", None, Proof(api.check_fields, _management_bootstrapped, session=API)),
        _bind(
            REGISTERED,
            "registrations",
            Proof(api.check_registered, lambda ctx, t: call(ctx.platform, t.subject), session=API),
        ),
        _bind(DEPLOYED, "node_vms", _vsphere(vv.vm_present, _present)),
        _bind(VLAN, "node_vms", _vsphere(vv.vm_vlan, _vlan)),
        _bind(
            RESERVED,
            "reservations",
            *(_vsphere(vv.vm_allocation, _allocation(aspect)) for aspect in vv.vm.ALLOCATION_ASPECTS),
        ),
        _bind(
            IOPS_BUDGET,
            "reservations",
            _vsphere(vv.iops_budget, lambda ctx, _t: call(ctx.reader, ctx.loaded.site.vsphere.iops_budget)),
        ),
        _bind(FORCE_SETUP, "boot_options", _vsphere(vv.vm_boot_options, _boot("force-setup"))),
        _bind(BOOT_ORDER, "boot_options", _vsphere(vv.vm_boot_options, _boot("boot-order"))),
        _bind(
            PASSWORD, "bios_password", _net(vv.bios_password_attestation, lambda ctx, _t: call(ctx.loaded.site.name))
        ),
        _bind(
            "nodes.answers",
            None,
            _net(tls.check_protocol_accepted, lambda ctx, t: call(_https(ctx, t), tls.TlsVersion.TLS1_2)),
            _net(tls.check_protocol_refused, lambda ctx, t: call(_https(ctx, t), tls.TlsVersion.TLS1_0)),
        ),
        _bind("nodes.sip-ports", None, *(_net(sip.check_options, _sip(row)) for row in SIP_ROWS)),
        _bind("nodes.deployed-status", "deployed_and_synced",
              _net(node_status.check_node_status, lambda ctx, _t: call(ctx.loaded))),
        _bind("nodes.ports-allowed-only", None, replace(_net(port_scan.check_only_allowed_ports, _scan), waits=True)),
    ),
)


def _vsphere_session(ctx: NodesProbe, jobs: list[Job[NodesProbe]]) -> list[Result]:
    try:
        with vv.readonly_session(site_connection(ctx.loaded), []) as reader:
            inside = replace(ctx, vsphere=reader)
            return [job.run(inside) for job in jobs]
    except Exception as exc:
        return could_not_check(jobs, f"cannot read the vSphere host: {type(exc).__name__}: {exc}")


def _api_session(ctx: NodesProbe, jobs: list[Job[NodesProbe]]) -> list[Result]:
    reader = ApiReader(lambda: management_api(ctx.loaded))
    try:
        inside = replace(ctx, api=reader)
        return [job.run(inside) for job in jobs]
    finally:
        reader.close()


def plan(loaded: LoadedSite) -> list[Planned[NodesProbe]]:
    """Every nodes control on every target of its kind (each conferencing node; the host; the platform)."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """The vSphere read-back, the API read-back and the network probes, each session at once."""
    ctx = NodesProbe(loaded, desired_security_answers(loaded.site))
    runners: dict[str, SessionRunner[NodesProbe]] = {
        VSPHERE: partial(_vsphere_session, ctx),
        API: partial(_api_session, ctx),
        NET: partial(each_at_once, ctx),
    }
    return run_sessions(plan(loaded), runners, combine)


SPEC = StageSpec(stage=Stage.NODES, steps=tuple(STEPS.values()), verify=verify)
