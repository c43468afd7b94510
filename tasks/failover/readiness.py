"""Waiting for the fallback to come up at a failover (read only): its Management Node's HTTPS API answering,
then every conferencing node DEPLOYED and SYNCED on it. Both bounded; a timeout names what is missing."""

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


def wait_for_sync(fallback: LoadedSite, timeout_s: float, poll_s: float = POLL_S) -> list[str]:
    """Until every fallback conferencing node is DEPLOYED and SYNCED on the fallback Management Node; their names."""
    names = [node.name for node in fallback.site.conferencing_nodes]
    if names:
        wait_until_ready(lambda: _poll(fallback), names, timeout_s=timeout_s, poll_s=poll_s)
    return names
