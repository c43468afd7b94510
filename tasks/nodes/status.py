"""Waiting until every Conferencing Node is DEPLOYED and SYNCED on the Management Node (guide: after the
VM is powered on, the node contacts the Management Node and its status becomes Deployed, then Synced).

Bounded: a node that has not reported both within ``DEPLOY_TIMEOUT_S`` stops the run with an error that
names it and its last status. Every node is waited for at once (one status read per poll).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.connect import management_api
from securemode.pexip.errors import TransientApiError
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.survey import DEPLOYED_STATUS, SYNCED_STATUS, statuses

DEPLOY_TIMEOUT_S = 900.0  # a real node's first boot and first sync take minutes
POLL_S = 0.5

StatusRead = Callable[[], Mapping[str, Mapping[str, Any]]]


class NodeNotDeployed(RuntimeError):
    """A node did not report DEPLOYED and SYNCED in time."""


def _state(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "not reported yet"
    return f"{row.get('deploy_status')}/{row.get('sync_status')}"


def is_ready(row: Mapping[str, Any] | None) -> bool:
    return row is not None and row.get("deploy_status") == DEPLOYED_STATUS and row.get("sync_status") == SYNCED_STATUS


def waiting_for(rows: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> dict[str, str]:
    """The nodes not DEPLOYED/SYNCED yet, with their status."""
    return {name: _state(rows.get(name)) for name in names if not is_ready(rows.get(name))}


def wait_until_ready(
    read: StatusRead,
    names: Sequence[str],
    timeout_s: float = DEPLOY_TIMEOUT_S,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll until every named node is DEPLOYED and SYNCED; raise NodeNotDeployed naming the late ones."""
    deadline = clock() + timeout_s
    while True:
        late = waiting_for(read(), names)
        if not late:
            return
        if clock() >= deadline:
            shown = ", ".join(f"{name} ({state})" for name, state in sorted(late.items()))
            raise NodeNotDeployed(
                f"not DEPLOYED and SYNCED on the Management Node within {timeout_s:.0f}s: {shown}; "
                "check that each VM booted (its console) and reaches the Management Node"
            )
        sleep(poll_s)


def _read(loaded: LoadedSite) -> Mapping[str, Mapping[str, Any]]:
    with management_api(loaded) as api:
        return statuses(api)


def poll_statuses(loaded: LoadedSite) -> Mapping[str, Mapping[str, Any]]:
    """One status read while waiting: a Management Node that is briefly unavailable reports nothing yet."""
    try:
        return _read(loaded)
    except TransientApiError:
        return {}


def ensure_nodes_deployed(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Nothing to do when every node reports DEPLOYED/SYNCED; else a run waits for them (no setting changes)."""
    loaded = ctx.site
    names = [node.name for node in loaded.site.conferencing_nodes]
    if not names:
        return plan_of()
    try:
        rows = _read(loaded)
    except Exception as exc:
        if ctx.apply:
            raise
        return plan_of(
            notes=[
                f"the Management Node does not answer yet ({type(exc).__name__}): a run waits until "
                f"{', '.join(names)} report DEPLOYED/SYNCED"
            ]
        )
    late = waiting_for(rows, names)
    if not late:
        return plan_of()
    notes = (
        []
        if ctx.apply
        else [f"a run waits until {name} reports DEPLOYED/SYNCED (now {state})" for name, state in sorted(late.items())]
    )
    return plan_of(Planned(action=partial(wait_until_ready, partial(poll_statuses, loaded), sorted(late))), notes=notes)
