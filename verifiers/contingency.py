"""The contingency deployment's rows, checked without powering the fallback on.

The fallback stays off between refreshes (guide), so what can be read of it is what its last refresh
exported while it was up (:mod:`securemode.pexip.parity_record`); every message says when that was. The
primary is read live: its configuration now, diffed against that export, shows a change on the primary
since the refresh as a parity FAIL naming the field. No record, or one older than the site's bound, is
FAIL: the parity is not proven. A primary that cannot be read is ERROR.
"""

from __future__ import annotations

from collections.abc import Callable

from securemode.pexip import parity_record
from securemode.pexip.connect import management_api
from securemode.pexip.export import ConfigurationExport, export_configuration
from securemode.pexip.export_diff import contingency_identities, diff_exports
from securemode.results import Probe, Result, probe
from securemode.site_loader import LoadedSite

REFRESH_FIX = "run the pipeline or the contingency-refresh flow, which rebuild the fallback and prove parity"


def _recorded(p: Probe, primary: LoadedSite) -> tuple[parity_record.ParityRecord, ConfigurationExport] | None:
    """The last refresh's record and fallback export, or None with the verdict given (FAIL: not proven)."""
    plan = primary.site.contingency
    record = parity_record.load(primary)
    if plan is None or record is None:
        p.failed(None, f"the fallback's configuration was never exported (no refresh finished): {REFRESH_FIX}")
        return None
    p.log(f"fallback as exported at its last refresh, {record.proven_at:%Y-%m-%d %H:%M:%S} UTC "
          f"({record.age_hours():.1f} h ago)")
    if record.age_hours() > plan.parity_max_age_hours:
        p.failed(record.proven_at.isoformat(), f"the fallback was last exported {record.age_hours():.0f} h ago, "
                 f"beyond the site's bound of {plan.parity_max_age_hours} h: {REFRESH_FIX}")
        return None
    return record, ConfigurationExport.model_validate(record.fallback_export)


def check_recorded_parity(control: str, target: str, primary: LoadedSite) -> Result:
    """PASS when the primary, read now, differs from the fallback's last export only by the guide's
    exceptions and the per-node identities."""
    with probe(control, target, expected="differences only in the allowed set") as p:
        found = _recorded(p, primary)
        if found is None:
            return p.result
        _record, fallback = found
        try:
            with management_api(primary) as api:
                now = export_configuration(api)
        except Exception as exc:
            p.error(f"cannot export the primary's configuration: {type(exc).__name__}: {exc}")
            return p.result
        differences = diff_exports(now, fallback, contingency_identities(primary.site))
        wrong = [d for d in differences if not d.allowed]
        observed = [{"path": d.path, "primary": d.primary, "fallback": d.fallback} for d in wrong]
        p.check(not wrong, observed or f"{len(differences)} allowed difference(s)",
                "; ".join(f"{d.path}: primary {d.primary!r}, fallback {d.fallback!r} ({d.reason})" for d in wrong))
    return p.result


def _on_export(control: str, target: str, primary: LoadedSite, expected: str,
               judge: Callable[[ConfigurationExport], tuple[bool, object, str]]) -> Result:
    with probe(control, target, expected=expected) as p:
        found = _recorded(p, primary)
        if found is not None:
            ok, observed, why = judge(found[1])
            p.check(ok, str(observed), why)
    return p.result


def _authentication(export: ConfigurationExport, field: str) -> object:
    return export.singletons.get("authentication", {}).get(field)


def check_recorded_ldap_and_local(control: str, target: str, primary: LoadedSite) -> Result:
    def judge(export: ConfigurationExport) -> tuple[bool, object, str]:
        source = _authentication(export, "source")
        return source == "LDAP+LOCAL", source, f"the fallback's authentication source is {source!r}, not LDAP+LOCAL"

    return _on_export(control, target, primary, "LDAP+LOCAL", judge)


def check_recorded_no_client_certificate(control: str, target: str, primary: LoadedSite) -> Result:
    def judge(export: ConfigurationExport) -> tuple[bool, object, str]:
        mode = _authentication(export, "client_certificate")
        return mode in (None, "NO"), mode, f"the fallback requires client certificates ({mode!r})"

    return _on_export(control, target, primary, "NO", judge)


def check_recorded_no_licence(control: str, target: str, primary: LoadedSite) -> Result:
    def judge(export: ConfigurationExport) -> tuple[bool, object, str]:
        held = sorted(export.collections.get("licence", {}))
        return not held, held, f"the fallback holds {len(held)} licence(s): {', '.join(held)}"

    return _on_export(control, target, primary, "no licence", judge)


def licence_transfer(control: str, target: str, primary: LoadedSite) -> Result:
    """The licence moves to the fallback only when it takes over, through Pexip support (guide); until a
    failover there is nothing to transfer, and a failover asks a person to attest it."""
    with probe(control, target, expected="attested by a person at a failover") as p:
        p.not_applicable("no failover: the licence stays with the primary; it is returned and re-activated on "
                         "the fallback through Pexip support only when the fallback takes over")
    return p.result
