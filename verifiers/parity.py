"""Contingency parity and the fallback's exceptions, proven on fresh Management API sessions.

``check_parity`` exports both deployments live (each through its own new session) and diffs them: PASS
only when both were read and every difference is one the guide allows; FAIL names each other difference
with both values; ERROR names the side that could not be read. The exception rows judge one live export
of the fallback: authentication ``LDAP+LOCAL``, no client certificate required, an empty licence list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from securemode.pexip.client import ManagementApi
from securemode.pexip.export import ConfigurationExport, export_configuration
from securemode.pexip.export_diff import (
    FALLBACK_CLIENT_CERTIFICATE,
    FALLBACK_SOURCE,
    Difference,
    diff_exports,
)
from securemode.results import JsonValue, Probe, Result, probe

ApiSource = Callable[[], ManagementApi]
"""Opens a new Management API session with one deployment's Management Node (e.g. ``management_api``)."""

PARITY = "contingency.parity"
LDAP_AND_LOCAL = "contingency.auth.ldap-and-local"
NO_CLIENT_CERT = "contingency.auth.no-client-cert"
NO_LICENCE = "contingency.no-licence"
PARITY_EXPECTED = "every difference in {authentication source, client certificate, licence, per-node identities}"
_SHOWN_LIMIT = 200


@dataclass(frozen=True)
class Reading:
    """One side's export, or why it could not be read."""

    side: str
    export: ConfigurationExport | None
    problem: str = ""


def read_side(side: str, source: ApiSource) -> Reading:
    """Export ``side`` through a new session from ``source``; a failure is kept as the reading's problem."""
    try:
        with source() as api:
            return Reading(side, export_configuration(api))
    except Exception as exc:
        return Reading(side, None, f"{type(exc).__name__}: {exc}")


def _shown(value: JsonValue) -> str:
    text = "absent" if value is None else repr(value)
    return text if len(text) <= _SHOWN_LIMIT else text[:_SHOWN_LIMIT] + "…"


def _as_json(d: Difference) -> JsonValue:
    return {"path": d.path, "primary": d.primary, "fallback": d.fallback, "reason": d.reason}


def judge_parity(p: Probe, primary: Reading, fallback: Reading, identities: Mapping[str, str]) -> None:
    """The parity verdict on two readings (ERROR naming each side that was not read)."""
    unread = [r for r in (primary, fallback) if r.export is None]
    if unread:
        p.error("; ".join(f"cannot read the {r.side}: {r.problem}" for r in unread))
        return
    assert primary.export is not None and fallback.export is not None
    if primary.export.source == fallback.export.source:
        p.error(f"the primary and the fallback were both read from {primary.export.source}: one node, not two")
        return
    differences = diff_exports(primary.export, fallback.export, identities)
    allowed = [d for d in differences if d.allowed]
    wrong = [d for d in differences if not d.allowed]
    for d in differences:
        p.log(
            f"{'allowed' if d.allowed else 'NOT ALLOWED'} {d.path}: primary {_shown(d.primary)}, "
            f"fallback {_shown(d.fallback)} ({d.reason})"
        )
    observed: JsonValue = {
        "primary_fingerprint": primary.export.fingerprint(),
        "fallback_fingerprint": fallback.export.fingerprint(),
        "allowed": [_as_json(d) for d in allowed],
        "not_allowed": [_as_json(d) for d in wrong],
    }
    if wrong:
        p.failed(
            observed,
            f"{len(wrong)} difference(s) outside the allowed set: "
            + "; ".join(f"{d.path}: primary {_shown(d.primary)}, fallback {_shown(d.fallback)}" for d in wrong),
        )
    else:
        p.passed(observed, f"the fallback mirrors the primary; {len(allowed)} allowed difference(s)")


def check_parity(
    control: str, target: str, primary: ApiSource, fallback: ApiSource, identities: Mapping[str, str]
) -> Result:
    """Both deployments exported live and diffed; PASS only when every difference is allowed."""
    with probe(control, target, expected=PARITY_EXPECTED) as p:
        judge_parity(p, read_side("primary", primary), read_side("fallback", fallback), identities)
    return p.result


def judge_exception(p: Probe, control: str, reading: Reading) -> None:
    export = reading.export
    if export is None:
        p.error(f"cannot read the {reading.side}: {reading.problem}")
        return
    auth = export.singletons.get("authentication", {})
    if control == LDAP_AND_LOCAL:
        seen = auth.get("source")
        p.check(seen == FALLBACK_SOURCE, seen, f"the fallback authenticates with {seen!r}, not {FALLBACK_SOURCE}")
    elif control == NO_CLIENT_CERT:
        seen = auth.get("client_certificate")
        p.check(seen == FALLBACK_CLIENT_CERTIFICATE, seen, f"the fallback requires client certificates ({seen!r})")
    elif control == NO_LICENCE:
        licences = sorted(export.collections.get("licence", {}))
        p.check(not licences, licences, f"the fallback holds {len(licences)} licence(s): {', '.join(licences)}")
    else:
        raise ValueError(f"{control} is not a fallback exception row")


EXCEPTION_EXPECTED: dict[str, JsonValue] = {
    LDAP_AND_LOCAL: FALLBACK_SOURCE,
    NO_CLIENT_CERT: FALLBACK_CLIENT_CERTIFICATE,
    NO_LICENCE: [],
}


def fallback_exception_results(target: str, fallback: Reading) -> list[Result]:
    """One result per exception row, judged on one reading of the fallback."""
    results: list[Result] = []
    for control, expected in EXCEPTION_EXPECTED.items():
        with probe(control, target, expected=expected) as p:
            judge_exception(p, control, fallback)
        results.append(p.result)
    return results


def check_fallback_exceptions(target: str, fallback: ApiSource) -> list[Result]:
    """The rows ``contingency.auth.ldap-and-local``, ``contingency.auth.no-client-cert`` and
    ``contingency.no-licence`` on one live export of the fallback (each ERROR when it cannot be read)."""
    return fallback_exception_results(target, read_side("fallback", fallback))


def check_ldap_and_local(target: str, fallback: ApiSource) -> Result:
    """``contingency.auth.ldap-and-local``: the fallback's authentication source is LDAP+LOCAL."""
    return _one(LDAP_AND_LOCAL, target, fallback)


def check_no_client_certificate(target: str, fallback: ApiSource) -> Result:
    """``contingency.auth.no-client-cert``: the fallback does not require client certificates."""
    return _one(NO_CLIENT_CERT, target, fallback)


def check_no_licence(target: str, fallback: ApiSource) -> Result:
    """``contingency.no-licence``: the fallback's licence list is empty."""
    return _one(NO_LICENCE, target, fallback)


def _one(control: str, target: str, fallback: ApiSource) -> Result:
    with probe(control, target, expected=EXCEPTION_EXPECTED[control]) as p:
        judge_exception(p, control, read_side("fallback", fallback))
    return p.result
