"""The contingency deployment's rows, checked without powering the fallback on.

The fallback stays off between refreshes (guide), so what can be read of it is what its last refresh
exported while it was up (:mod:`securemode.pexip.parity_record`); every transcript says when that was.
The primary is read live: its configuration now, diffed against that export, shows a change on the
primary since the refresh as a parity FAIL naming the field. No record, or one older than the site's
bound, is FAIL: the parity is not proven. A primary that cannot be read is ERROR. The judging is the
live parity verifiers' (:mod:`securemode.verifiers.parity`).
"""

from __future__ import annotations

from collections.abc import Sequence

from securemode.failover_marker import active_failover
from securemode.pexip import parity_record
from securemode.pexip.connect import management_api
from securemode.pexip.export import ConfigurationExport
from securemode.pexip.export_diff import contingency_identities
from securemode.results import Probe, Result, probe
from securemode.site_loader import LoadedSite
from securemode.verifiers.parity import (
    EXCEPTION_EXPECTED,
    PARITY_EXPECTED,
    Reading,
    judge_exception,
    judge_parity,
    read_side,
)
from securemode.verifiers.vsphere.power import check_powered_off
from securemode.verifiers.vsphere.reader import HostReader

REFRESH_FIX = "run the pipeline or the contingency-refresh flow, which rebuild the fallback and prove parity"


def _recorded(p: Probe, primary: LoadedSite) -> Reading | None:
    """The fallback as its last refresh exported it, or None with the verdict given (FAIL: not proven)."""
    plan = primary.site.contingency
    record = parity_record.load(primary)
    if plan is None or record is None:
        p.failed(None, f"the fallback's configuration was never exported (no refresh finished): {REFRESH_FIX}")
        return None
    when = f"{record.proven_at:%Y-%m-%d %H:%M:%S} UTC"
    p.log(f"the fallback is off: read as its last refresh exported it, at {when} ({record.age_hours():.1f} h ago)")
    if record.age_hours() > plan.parity_max_age_hours:
        p.failed(record.proven_at.isoformat(), f"the fallback was last exported {record.age_hours():.0f} h ago, "
                 f"beyond the site's bound of {plan.parity_max_age_hours} h: {REFRESH_FIX}")
        return None
    return Reading(f"fallback (as exported at {when})", ConfigurationExport.model_validate(record.fallback_export))


def check_recorded_parity(control: str, target: str, primary: LoadedSite) -> Result:
    """PASS when the primary, read now, differs from the fallback's last export only by the guide's
    exceptions and the per-node identities."""
    with probe(control, target, expected=PARITY_EXPECTED) as p:
        fallback = _recorded(p, primary)
        if fallback is not None:
            now = read_side("primary", lambda: management_api(primary))
            judge_parity(p, now, fallback, contingency_identities(primary.site))
    return p.result


def check_recorded_exception(control: str, target: str, primary: LoadedSite) -> Result:
    """One of the fallback's exception rows (LDAP+LOCAL, no client certificate, no licence) on its last export."""
    with probe(control, target, expected=EXCEPTION_EXPECTED[control]) as p:
        fallback = _recorded(p, primary)
        if fallback is not None:
            judge_exception(p, control, fallback)
    return p.result


def licence_transfer(control: str, target: str, primary: LoadedSite) -> Result:
    """The licence moves to the fallback only when it takes over, through Pexip support (guide): until a
    failover there is nothing to transfer; while one stands, a person attests who re-activated it."""
    with probe(control, target, expected="attested by a person at a failover") as p:
        marker = active_failover(primary)
        if marker is None:
            p.not_applicable("no failover: the licence stays with the primary; it is returned and re-activated "
                             "on the fallback through Pexip support only when the fallback takes over")
        else:
            p.manual(f"{marker.describe()}: the licence must be returned and re-activated on the fallback through "
                     "Pexip support; a person attests who did it")
    return p.result


def fallback_powered_off(control: str, target: str, primary: LoadedSite, reader: HostReader, vm_name: str,
                         address: str, ports: Sequence[int], sip_udp_port: int | None) -> Result:
    """``contingency.powered-off`` (:func:`check_powered_off`), except while a failover stands: then the
    fallback carries the service and being on is the plan (NOT_APPLICABLE, naming the failover)."""
    marker = active_failover(primary)
    if marker is None:
        return check_powered_off(control, target, reader, vm_name, address, ports=ports, sip_udp_port=sip_udp_port)
    with probe(control, target, expected="poweredOff (outside a failover)") as p:
        p.not_applicable(marker.describe())
    return p.result
