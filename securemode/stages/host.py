"""Stage `host` (guide: Securing the host environment): ESXi STIG subset, VM network, VLAN rules, lockdown.

Lockdown is the last step and gated as ``host.lockdown`` (design principle 5).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from securemode.catalogue import Stage, controls_for
from securemode.engine import EnsureStep, StageSpec
from securemode.results import Result, probe
from securemode.site import RESERVED_GUEST_TAGGING_VLAN
from securemode.site_loader import LoadedSite
from securemode.vsphere import VSphereConnectError, host_target
from securemode.vsphere.desired_host import (
    SECURITY_FIELDS,
    desired_options,
    lockdown_exceptions,
    ntp_servers,
    services_off,
)
from securemode.vsphere.engine_role import LEAST_ROLE_CONTROL
from tasks.host import (
    ensure_advanced_options,
    ensure_engine_role,
    ensure_lockdown_exceptions,
    ensure_lockdown_mode,
    ensure_ntp,
    ensure_port_groups,
    ensure_services,
    ensure_vswitch_security,
)
from tasks.host.lockdown import EXCEPTIONS, GATE, MODE
from tasks.host.ntp import CONTROL as NTP_CONTROL
from verifiers import vsphere as vv

Check = Callable[[vv.HostReader], Result]


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


def run_checks(loaded: LoadedSite, checks: list[tuple[str, str, Check]], option_keys: list[str]) -> list[Result]:
    """Run (control, target, check) on one fresh verifier session; every control ERROR if it cannot open."""
    try:
        with vv.readonly_session(site_connection(loaded), option_keys) as reader:
            return [check(reader) for _control, _target, check in checks]
    except Exception as exc:
        return [could_not_check(control, target, exc) for control, target, _check in checks]


def host_checks(loaded: LoadedSite) -> tuple[list[tuple[str, str, Check]], list[str]]:
    """Every host control bound to its probe and expected value; plus the option keys to read."""
    site = loaded.site
    target = host_target(site)
    nets = site.vsphere.networks
    options = desired_options(site)
    checks: list[tuple[str, str, Check]] = [
        ("host.pnics.count", target, lambda r: vv.pnic_count("host.pnics.count", target, r)),
        ("host.pnics.separate", target, lambda r: vv.separate_pnics("host.pnics.separate", target, r,
                                                                    nets.management.port_group, nets.vm.port_group)),
        ("host.vlan.no-4095", target, lambda r: vv.port_group_vlans("host.vlan.no-4095", target, r,
                                                                    {RESERVED_GUEST_TAGGING_VLAN})),
        ("host.vlan.not-reserved", target, lambda r: vv.port_group_vlans("host.vlan.not-reserved", target, r,
                                                                         set(site.vsphere.reserved_vlans))),
    ]
    for want in options:
        checks.append((want.control, target, partial(vv.advanced_option, want.control, target, want=want)))
    for control, key in services_off():
        checks.append((control, target, partial(vv.service_off, control, target, key=key)))
    checks.append((NTP_CONTROL, target, lambda r: vv.ntp(NTP_CONTROL, target, r, ntp_servers(site))))
    for control, fld in SECURITY_FIELDS.items():
        checks.append((control, target, partial(vv.vswitch_security, control, target, field=fld)))
    checks.append((EXCEPTIONS, target, lambda r: vv.lockdown_exceptions(EXCEPTIONS, target, r,
                                                                        lockdown_exceptions(site))))
    checks.append((LEAST_ROLE_CONTROL, target, lambda r: vv.engine_least_role(LEAST_ROLE_CONTROL, target, r)))
    checks.append((MODE, target, lambda r: vv.lockdown_mode(MODE, target, r)))
    return checks, [o.key for o in options]


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per host control, from a fresh read-only session."""
    checks, keys = host_checks(loaded)
    return run_checks(loaded, checks, keys)


def control_ids() -> list[str]:
    return [c.id for c in controls_for([Stage.HOST])]


_TRANSIENT = (VSphereConnectError,)

SPEC = StageSpec(
    stage=Stage.HOST,
    steps=(
        EnsureStep("port_groups", ensure_port_groups, transient_errors=_TRANSIENT),
        EnsureStep("vswitch_security", ensure_vswitch_security, transient_errors=_TRANSIENT),
        EnsureStep("advanced_options", ensure_advanced_options, transient_errors=_TRANSIENT),
        EnsureStep("services", ensure_services, transient_errors=_TRANSIENT),
        EnsureStep("ntp", ensure_ntp, transient_errors=_TRANSIENT),
        EnsureStep("lockdown_exceptions", ensure_lockdown_exceptions, transient_errors=_TRANSIENT),
        EnsureStep("engine_role", ensure_engine_role, transient_errors=_TRANSIENT),
        EnsureStep("lockdown", ensure_lockdown_mode, gated=GATE, transient_errors=_TRANSIENT),
    ),
    verify=verify,
)
