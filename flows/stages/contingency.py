"""Stage ``contingency`` (guide: Contingency deployment): a mirror of the primary with the guide's
exceptions (LDAP and local authentication, no client certificate, no licence), parity proven, then every
fallback VM powered off, to "remain off until required".

Steps: ``fallback`` builds or refreshes the fallback with the primary's own stage flows and records the
parity of both configurations while it is up (:mod:`securemode.flows.contingency_build`) — only when a
refresh is due, so a second run powers nothing on; ``power-off`` shuts every fallback VM down (guest
shutdown, then power off after the site's bound).

Verify never powers the fallback on: vSphere's power state and silence at each fallback address; the
primary's configuration read now against the fallback's as exported at the last refresh (a change on
the primary since is a parity FAIL naming the field); the exceptions and the empty licence list as that
export showed them; the licence transfer NOT_APPLICABLE until a failover (which asks a person for it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

from securemode.binding import Binding, Call, Planned, Proof, Target, call, checked, planned
from securemode.catalogue import BY_ID, Stage, TargetKind
from securemode.engine import Change, EngineContext, EnsureStep, StageSpec, StepPlan, plan_of
from securemode.engine import Planned as Action
from securemode.flows.contingency_build import build_fallback, refresh_reason
from securemode.flows.stages.host import could_not_check, site_connection
from securemode.results import Result, probe
from securemode.site import Contingency, ContingencyNode, Site
from securemode.site_loader import LoadedSite
from securemode.targets import CONTINGENCY_TARGET, resolver
from securemode.tasks.vms.power_off import planned_power_off
from securemode.verifiers import contingency as cv
from securemode.verifiers import vsphere as vv
from securemode.verifiers.api import combine
from securemode.verifiers.vsphere.power import check_powered_off
from securemode.vsphere import VSphereConnectError, open_site_session
from securemode.vsphere.power import PowerReader

PARITY, POWERED_OFF = "contingency.parity", "contingency.powered-off"
NO_CONTINGENCY = "the site defines no contingency deployment (a `contingency` section): nothing to build or check"


def fallback_nodes(plan: Contingency) -> list[ContingencyNode]:
    return [plan.management_node, *plan.conferencing_nodes]


def ensure_fallback(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Build or refresh the fallback when its recorded parity no longer stands; nothing otherwise."""
    primary = ctx.site
    plan = primary.site.contingency
    if plan is None:
        return plan_of(notes=[NO_CONTINGENCY])
    reader = PowerReader(resources.enter_context(open_site_session(primary)))
    missing = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is None]
    reason = refresh_reason(primary, missing)
    if reason is None:
        return plan_of()
    change = Change(control=PARITY, target=CONTINGENCY_TARGET, setting="contingency deployment", current=reason,
                    desired="built by the primary's stages with the guide's exceptions, parity proven, powered off")
    return plan_of(Action(action=partial(build_fallback, primary, ctx.gate, reason), changes=(change,)))


def ensure_fallback_off(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Shut every fallback VM that exists down; one the plan has yet to build is left to the build."""
    plan = ctx.site.site.contingency
    if plan is None:
        return plan_of()
    reader = PowerReader(resources.enter_context(open_site_session(ctx.site)))
    present = [n.name for n in fallback_nodes(plan) if reader.read(n.name) is not None]
    return plan_of(*planned_power_off(reader, present, plan.shutdown_wait_s))


_TRANSIENT = (VSphereConnectError,)
STEPS = {step.name: step for step in (
    EnsureStep("fallback", ensure_fallback, transient_errors=_TRANSIENT),
    EnsureStep("power-off", ensure_fallback_off, transient_errors=_TRANSIENT),
)}


@dataclass(frozen=True)
class FallbackProbe:
    """What the contingency verifiers need: the primary's site and one fresh read-only vSphere session."""

    loaded: LoadedSite
    reader: vv.HostReader

    @property
    def site(self) -> Site:
        return self.loaded.site


def _silent(ctx: FallbackProbe, target: Target) -> Call:
    wizard = ctx.site.security_wizard
    return call(ctx.reader, target.name, str(target.subject.address),
                ports=(22, 443, wizard.sip_tcp_port, wizard.sip_tls_port), sip_udp_port=wizard.sip_udp_port)


def _primary(ctx: FallbackProbe, _t: Target) -> Call:
    return call(ctx.loaded)


def _bind(control: str, fix: str | None, verifier: Callable[..., Result],
          arguments: Callable[[FallbackProbe, Target], Call] = _primary) -> Binding[FallbackProbe]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, (Proof(verifier, arguments),))


BINDINGS: tuple[Binding[FallbackProbe], ...] = checked(Stage.CONTINGENCY, tuple(STEPS.values()), (
    _bind(PARITY, "fallback", cv.check_recorded_parity),
    _bind("contingency.auth.ldap-and-local", "fallback", cv.check_recorded_ldap_and_local),
    _bind("contingency.auth.no-client-cert", "fallback", cv.check_recorded_no_client_certificate),
    _bind("contingency.no-licence", "fallback", cv.check_recorded_no_licence),
    _bind(POWERED_OFF, "power-off", check_powered_off, _silent),
    _bind("contingency.licence-transfer", None, cv.licence_transfer),
))


def targets(site: Site) -> Callable[[TargetKind], list[Target]]:
    """The fallback's VMs for the VM rows; the contingency deployment as a whole for the others."""
    plan = site.contingency
    assert plan is not None
    base = resolver(site)

    def of(kind: TargetKind) -> list[Target]:
        if kind is TargetKind.VM:
            return [Target(kind, node.name, node) for node in fallback_nodes(plan)]
        if kind is TargetKind.CONTINGENCY:
            return [Target(kind, CONTINGENCY_TARGET, plan)]
        return base(kind)

    return of


def plan(loaded: LoadedSite) -> list[Planned[FallbackProbe]]:
    """Every contingency control on its targets; none on a site without a contingency section."""
    if loaded.site.contingency is None:
        return []
    return planned(BINDINGS, targets(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per contingency control and target, from one fresh read-only vSphere session; on a site
    without a contingency section, every control NOT_APPLICABLE saying so."""
    if loaded.site.contingency is None:
        return [_not_applicable(b.control.id) for b in BINDINGS]
    checks = plan(loaded)
    try:
        with vv.readonly_session(site_connection(loaded), []) as reader:
            ctx = FallbackProbe(loaded, reader)
            return [item.run(ctx, combine) for item in checks]
    except Exception as exc:
        return [could_not_check(*item.pair, exc) for item in checks]


def _not_applicable(control: str) -> Result:
    with probe(control, CONTINGENCY_TARGET) as p:
        p.not_applicable(NO_CONTINGENCY)
    return p.result


SPEC = StageSpec(stage=Stage.CONTINGENCY, steps=tuple(STEPS.values()), verify=verify)
