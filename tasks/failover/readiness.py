"""Waiting for the fallback to come up at a failover (read only): its Management Node's HTTPS API answering,
then every conferencing node DEPLOYED and SYNCED on it, in a report made since it was powered on. Both
bounded; a timeout names what is missing.

The Management Node keeps each node's last status while everything is off: right after power-on it
still says DEPLOYED and SYNCED for a node that has not booted yet, whose SIP and SNMP then refuse."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from securemode.pexip.connect import management_api
from securemode.redact import redact
from securemode.site_loader import LoadedSite
from securemode.tasks.nodes.status import wait_until_ready
from securemode.tasks.nodes.survey import statuses

POLL_S = 0.5


class FallbackNotReady(RuntimeError):
    """The fallback did not come up within the bound: the message says what was last seen."""


def _statuses(fallback: LoadedSite) -> Mapping[str, Mapping[str, Any]]:
    with management_api(fallback) as api:
        return statuses(api)


def wait_for_management_node(fallback: LoadedSite, timeout_s: float, poll_s: float = POLL_S) -> None:
    """Poll the fallback Management Node's API over HTTPS (its pinned or CA-trusted certificate) until it
    answers; at the bound, the last failure is named (a wrong certificate among them: no boot delay fixes it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _statuses(fallback)
            return
        except Exception as exc:  # refused, reset, 503 while it boots: wait and ask again
            last = f"{type(exc).__name__}: {redact(str(exc))}"
        if time.monotonic() >= deadline:
            node = fallback.site.management_node
            raise FallbackNotReady(
                f"the fallback Management Node {node.name} ({node.address}) did not answer on "
                f"HTTPS within {timeout_s:.0f} s; last: {last}"
            )
        time.sleep(poll_s)


def _poll(fallback: LoadedSite) -> Mapping[str, Mapping[str, Any]]:
    try:
        return _statuses(fallback)
    except Exception:  # a Management Node busy at boot reports nothing yet
        return {}


Report = tuple[Any, Any]


def node_reports(fallback: LoadedSite) -> dict[str, Report]:
    """Each node's last report as the fallback Management Node shows it now: (boot time, last updated);
    empty while it does not answer."""
    return {name: _report(row) for name, row in _poll(fallback).items()}


def _report(row: Mapping[str, Any]) -> Report:
    return row.get("boot_time"), row.get("last_updated")


def wait_for_sync(fallback: LoadedSite, timeout_s: float, poll_s: float = POLL_S,
                  before: Mapping[str, Report] | None = None) -> list[str]:
    """Until every fallback conferencing node is DEPLOYED and SYNCED on the fallback Management Node in a
    report other than its report in ``before`` (read before the nodes were powered on); their names."""
    names = [node.name for node in fallback.site.conferencing_nodes]
    stale = before or {}

    def reported_since() -> dict[str, Mapping[str, Any]]:
        return {name: row for name, row in _poll(fallback).items() if _report(row) != stale.get(name)}

    if names:
        wait_until_ready(reported_since, names, timeout_s=timeout_s, poll_s=poll_s)
    return names
