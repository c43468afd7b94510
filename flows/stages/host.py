"""Stage `host` (guide: Securing the host environment): ESXi STIG subset, VM network, VLAN rules, lockdown.

Lockdown is the last step and gated as ``host.lockdown`` (design principle 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from securemode.binding import Binding, Call, Planned, Proof, Target, call, checked, planned
from securemode.catalogue import BY_ID, Stage
from securemode.catalogue.host import ADVANCED_OPTIONS
from securemode.engine import EnsureStep, StageSpec
from securemode.results import Result, probe
from securemode.site import RESERVED_GUEST_TAGGING_VLAN, Site
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.host import (
    ensure_advanced_options,
    ensure_engine_role,
    ensure_lockdown_exceptions,
    ensure_lockdown_mode,
    ensure_ntp,
    ensure_port_groups,
    ensure_services,
    ensure_vswitch_security,
)
from securemode.tasks.host.lockdown import EXCEPTIONS, GATE, MODE
from securemode.tasks.host.ntp import CONTROL as NTP_CONTROL
from securemode.verifiers import vsphere as vv
from securemode.verifiers.api import combine
from securemode.vsphere import VSphereConnectError
from securemode.vsphere.desired_host import (
    SECURITY_FIELDS,
    desired_options,
    lockdown_exceptions,
    ntp_servers,
    services_off,
)
from securemode.vsphere.engine_role import LEAST_ROLE_CONTROL

_TRANSIENT = (VSphereConnectError,)


@dataclass(frozen=True)
class HostProbe:
    """What a host or VM verifier needs: the site and one fresh read-only session."""

    loaded: LoadedSite
    reader: vv.HostReader

    @property
    def site(self) -> Site:
        return self.loaded.site


def site_connection(loaded: LoadedSite) -> vv.VSphereConnection:
    """The verifiers' connection parameters, from the site (the password resolved from its reference)."""
    vs = loaded.site.vsphere
    return vv.VSphereConnection(
        host=vs.host, port=vs.port, username=vs.username, password=loaded.secret(vs.password).get_secret_value(),
        fingerprint_sha256=vs.trust.fingerprint_sha256,
        ca_file=str(loaded.resolve_path(vs.trust.ca_file)) if vs.trust.ca_file else None, esxi_host=vs.esxi_host)


def could_not_check(control: str, target: str, exc: BaseException) -> Result:
    """ERROR for a control whose target could not be read at all."""
    with probe(control, target) as p:
        p.error(f"cannot read the vSphere host: {type(exc).__name__}: {exc}")
    return p.result


def run_planned(loaded: LoadedSite, plan: list[Planned[HostProbe]], option_keys: list[str]) -> list[Result]:
    """Run every planned check on one fresh verifier session; every one ERROR if the session cannot open."""
    try:
        with vv.readonly_session(site_connection(loaded), option_keys) as reader:
            ctx = HostProbe(loaded, reader)
            return [item.run(ctx, combine) for item in plan]
    except Exception as exc:
        return [could_not_check(*item.pair, exc) for item in plan]


def _reader(ctx: HostProbe, _t: Target) -> Call:
    return call(ctx.reader)


def _option(ctx: HostProbe, _t: Target, control: str) -> Call:
    return call(ctx.reader, want=next(o for o in desired_options(ctx.site) if o.control == control))


def _service(ctx: HostProbe, _t: Target, control: str) -> Call:
    return call(ctx.reader, key=dict(services_off())[control])


def _vswitch(ctx: HostProbe, _t: Target, control: str) -> Call:
    return call(ctx.reader, field=SECURITY_FIELDS[control])


STEPS = {step.name: step for step in (
    EnsureStep("port_groups", ensure_port_groups, transient_errors=_TRANSIENT),
    EnsureStep("vswitch_security", ensure_vswitch_security, transient_errors=_TRANSIENT),
    EnsureStep("advanced_options", ensure_advanced_options, transient_errors=_TRANSIENT),
    EnsureStep("services", ensure_services, transient_errors=_TRANSIENT),
    EnsureStep("ntp", ensure_ntp, transient_errors=_TRANSIENT),
    EnsureStep("lockdown_exceptions", ensure_lockdown_exceptions, transient_errors=_TRANSIENT),
    EnsureStep("engine_role", ensure_engine_role, transient_errors=_TRANSIENT),
    EnsureStep("lockdown", ensure_lockdown_mode, gated=GATE, transient_errors=_TRANSIENT),
)}


def _bind(control: str, fix: str | None, verifier: Callable[..., Result],
          arguments: Callable[[HostProbe, Target], Call] = _reader) -> Binding[HostProbe]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, (Proof(verifier, arguments),))


BINDINGS: tuple[Binding[HostProbe], ...] = checked(Stage.HOST, tuple(STEPS.values()), (
    _bind("host.pnics.count", None, vv.pnic_count),
    _bind("host.pnics.separate", "port_groups", vv.separate_pnics, lambda ctx, _t: call(
        ctx.reader, ctx.site.vsphere.networks.management.port_group, ctx.site.vsphere.networks.vm.port_group)),
    _bind("host.vlan.no-4095", "port_groups", vv.port_group_vlans,
          lambda ctx, _t: call(ctx.reader, {RESERVED_GUEST_TAGGING_VLAN})),
    _bind("host.vlan.not-reserved", "port_groups", vv.port_group_vlans,
          lambda ctx, _t: call(ctx.reader, set(ctx.site.vsphere.reserved_vlans))),
    *(_bind(f"host.stig.{sid}", "advanced_options", vv.advanced_option, partial(_option, control=f"host.stig.{sid}"))
      for sid, _title, _key, _value in ADVANCED_OPTIONS),
    *(_bind(control, "services", vv.service_off, partial(_service, control=control))
      for control, _key in services_off()),
    _bind(NTP_CONTROL, "ntp", vv.ntp, lambda ctx, _t: call(ctx.reader, ntp_servers(ctx.site))),
    *(_bind(control, "vswitch_security", vv.vswitch_security, partial(_vswitch, control=control))
      for control in SECURITY_FIELDS),
    _bind(EXCEPTIONS, "lockdown_exceptions", vv.lockdown_exceptions,
          lambda ctx, _t: call(ctx.reader, lockdown_exceptions(ctx.site))),
    _bind(LEAST_ROLE_CONTROL, "engine_role", vv.engine_least_role),
    _bind(MODE, "lockdown", vv.lockdown_mode),
))


def plan(loaded: LoadedSite) -> list[Planned[HostProbe]]:
    """Every host control on every target of its kind (the ESXi host)."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per host control, from a fresh read-only session."""
    return run_planned(loaded, plan(loaded), [o.key for o in desired_options(loaded.site)])


SPEC = StageSpec(stage=Stage.HOST, steps=tuple(STEPS.values()), verify=verify)
