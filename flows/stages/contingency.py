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
from functools import partial

from securemode.binding import Binding, Call, Planned, Proof, Target, call, checked, planned
from securemode.catalogue import BY_ID, Stage
from securemode.engine import EnsureStep, StageSpec
from securemode.flows.contingency_build import build_fallback
from securemode.flows.stages.host import HostProbe, could_not_check, site_connection
from securemode.results import Result, probe
from securemode.site_loader import LoadedSite
from securemode.targets import CONTINGENCY_TARGET, resolver
from securemode.tasks.contingency import ensure_fallback, ensure_fallback_off
from securemode.tasks.contingency.refresh import NO_CONTINGENCY
from securemode.verifiers import contingency as cv
from securemode.verifiers import vsphere as vv
from securemode.verifiers.api import combine
from securemode.verifiers.parity import EXCEPTION_EXPECTED
from securemode.vsphere import VSphereConnectError

STEPS = {step.name: step for step in (
    EnsureStep("fallback", partial(ensure_fallback, build_fallback), transient_errors=(VSphereConnectError,)),
    EnsureStep("power-off", ensure_fallback_off, transient_errors=(VSphereConnectError,)),
)}


def _silent(ctx: HostProbe, target: Target) -> Call:
    wizard = ctx.site.security_wizard
    return call(ctx.loaded, ctx.reader, target.name, str(target.subject.address),
                ports=(22, 443, wizard.sip_tcp_port, wizard.sip_tls_port), sip_udp_port=wizard.sip_udp_port)


def _primary(ctx: HostProbe, _t: Target) -> Call:
    return call(ctx.loaded)


def _bind(control: str, fix: str | None, verifier: Callable[..., Result],
          arguments: Callable[[HostProbe, Target], Call] = _primary) -> Binding[HostProbe]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, (Proof(verifier, arguments),))


BINDINGS: tuple[Binding[HostProbe], ...] = checked(Stage.CONTINGENCY, tuple(STEPS.values()), (
    _bind("contingency.parity", "fallback", cv.check_recorded_parity),
    *(_bind(control, "fallback", cv.check_recorded_exception) for control in EXCEPTION_EXPECTED),
    _bind("contingency.powered-off", "power-off", cv.fallback_powered_off, _silent),
    _bind("contingency.licence-transfer", None, cv.licence_transfer),
))


def plan(loaded: LoadedSite) -> list[Planned[HostProbe]]:
    """Every contingency control on its targets; none on a site without a contingency section."""
    if loaded.site.contingency is None:
        return []
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per contingency control and target, from one fresh read-only vSphere session; on a site
    without a contingency section, every control NOT_APPLICABLE saying so."""
    if loaded.site.contingency is None:
        return [_not_applicable(b.control.id) for b in BINDINGS]
    checks = plan(loaded)
    try:
        with vv.readonly_session(site_connection(loaded), []) as reader:
            ctx = HostProbe(loaded, reader)
            return [item.run(ctx, combine) for item in checks]
    except Exception as exc:
        return [could_not_check(*item.pair, exc) for item in checks]


def _not_applicable(control: str) -> Result:
    with probe(control, CONTINGENCY_TARGET) as p:
        p.not_applicable(NO_CONTINGENCY)
    return p.result


SPEC = StageSpec(stage=Stage.CONTINGENCY, steps=tuple(STEPS.values()), verify=verify)
