"""A Conferencing Node's status as the Management Node reports it, read on a fresh API session.

``GET /api/admin/status/v1/worker_vm/?name=NAME``: a node that was deployed and replicates its
configuration shows ``deploy_status`` DEPLOYED and ``sync_status`` SYNCED, and its ``last_updated``
moves forward every time it reports in (a real node about once a minute). A stale ``last_updated``
means the Management Node has not heard from the node lately, whatever the other two fields still say.

ERROR when the status cannot be read (no session, API unavailable) or the node is not in it (not
registered, or registered so recently that it has not reported yet); never a pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import API_PORT, management_api
from securemode.results import JsonValue, Probe, Result, probe
from securemode.site_loader import LoadedSite

STATUS_PATH = "/api/admin/status/v1/worker_vm/"
# A real node reports in about every 60 s: three missed reports make its status stale.
DEFAULT_MAX_AGE_S = 180.0
HEALTHY = {"deploy_status": "DEPLOYED", "sync_status": "SYNCED"}


def check_node_status(
    control: str,
    target: str,
    loaded: LoadedSite,
    name: str | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    port: int = API_PORT,
) -> Result:
    """PASS when the node ``name`` (default: ``target``) is DEPLOYED and SYNCED and reported in within
    ``max_age_s`` seconds; the session is the verifier's own (:func:`management_api`), closed after."""
    return check_node_status_with(control, target, lambda: management_api(loaded, port=port), name, max_age_s)


def check_node_status_with(
    control: str,
    target: str,
    open_api: Callable[[], ManagementApi],
    name: str | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Result:
    """:func:`check_node_status` on a session ``open_api`` opens (a new one per call)."""
    node = name or target
    expected: dict[str, JsonValue] = {**HEALTHY, "last_updated": f"within {max_age_s:g} s"}
    with probe(control, target, expected=expected) as p:
        rows = _read(p, open_api, node)
        if rows is not None:
            _judge(p, node, rows, max_age_s, now())
    return p.result


def _read(p: Probe, open_api: Callable[[], ManagementApi], node: str) -> list[dict[str, Any]] | None:
    """The node's status rows; None (and ERROR on the probe) when there is no session or no answer."""
    try:
        api = open_api()
    except Exception as exc:  # no session, no status: could not check
        p.error(f"cannot open a Management API session: {type(exc).__name__}: {exc}")
        return None
    try:
        return _status_rows(p, api, node)
    except Exception as exc:
        p.error(f"cannot read the node status: {type(exc).__name__}: {exc}")
        return None
    finally:
        api.close()


def _status_rows(p: Probe, api: ManagementApi, node: str) -> list[dict[str, Any]]:
    rows = [row for row in api.iter_objects(STATUS_PATH, name=node) if row.get("name") == node]
    p.log(f"GET {STATUS_PATH}?name={node}: {len(rows)} row(s)")
    return rows


def _judge(p: Probe, node: str, rows: list[dict[str, Any]], max_age_s: float, now: dt.datetime) -> None:
    if not rows:
        p.error(f"{node} is not in the Management Node's status (not registered, or it has not reported yet)")
        return
    row = rows[0]
    observed: dict[str, JsonValue] = {k: row.get(k) for k in (*HEALTHY, "last_updated")}
    wrong = [f"{k} is {row.get(k)}" for k, want in HEALTHY.items() if row.get(k) != want]
    if wrong:
        p.failed(observed, f"{node}: {', '.join(wrong)}")
        return
    updated = _timestamp(row.get("last_updated"))
    if updated is None:
        p.error(f"{node}: last_updated is {row.get('last_updated')!r}, so when it last reported is unknown", observed)
        return
    age = (now - updated).total_seconds()
    observed["age_s"] = round(age, 1)
    p.log(f"{node}: {row.get('deploy_status')}, {row.get('sync_status')}, last updated {age:.1f} s ago")
    if age > max_age_s:
        p.failed(observed, f"{node}: last updated {age:.0f} s ago (more than {max_age_s:g} s): status is stale")
    elif age < -max_age_s:
        p.failed(observed, f"{node}: last updated {-age:.0f} s in the future: the clocks disagree")
    else:
        p.passed(observed, f"{node} is DEPLOYED and SYNCED, last updated {age:.1f} s ago")


def _timestamp(value: Any) -> dt.datetime | None:
    """The API's timestamps are ISO 8601 in UTC, with or without an offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
