"""Flow and task runs whose process was killed (``kill -9``) are marked CRASHED by the next run.

A killed process cannot report its own end, so Prefect would show its runs RUNNING for ever. Every
pipeline run carries two tags: the site (``securemode-site:<name>``) and the process that runs it
(``securemode-process:<host>:<pid>:<start ticks>``). At the start of a run, this site's RUNNING flow
runs whose process is gone from this host are set CRASHED, with their task runs, saying why.
"""

from __future__ import annotations

import os
import socket
from contextlib import AbstractContextManager

from securemode.process_identity import start_ticks

SITE_TAG = "securemode-site:"
PROCESS_TAG = "securemode-process:"


def site_tag(site_name: str) -> str:
    return f"{SITE_TAG}{site_name}"


def process_tag(pid: int | None = None) -> str:
    """This process (or ``pid``) as a tag: host, PID and start time (a reused PID is not the same process)."""
    pid = pid or os.getpid()
    return f"{PROCESS_TAG}{socket.gethostname()}:{pid}:{start_ticks(pid)}"


def run_tags(site_name: str) -> AbstractContextManager[object]:
    """Tag every flow run started inside the block with the site and this process (task runs inside a
    stage flow go untagged: see :func:`untagged_tasks`)."""
    from prefect import tags

    return tags(site_tag(site_name), process_tag())


def untagged_tasks() -> AbstractContextManager[object]:
    """Start task runs without the run's tags: the bookkeeping reads flow runs only, and Prefect asks the
    server for tag concurrency slots before every tagged task run (a round trip per task, for no limit)."""
    from prefect.context import TagsContext

    return TagsContext(current_tags=set())


def gone_reason(tags: list[str]) -> str | None:
    """Why the process of a run with ``tags`` is known to be gone, or None (alive, elsewhere, or untagged)."""
    for tag in tags:
        if not tag.startswith(PROCESS_TAG):
            continue
        host, _, rest = tag.removeprefix(PROCESS_TAG).partition(":")
        pid_text, _, ticks_text = rest.partition(":")
        if host != socket.gethostname() or not pid_text.isdigit():
            return None
        if str(start_ticks(int(pid_text))) != ticks_text:
            return f"its process {pid_text} on {host} ended without reporting (killed, e.g. kill -9)"
    return None


def mark_crashed_runs(site_name: str) -> list[str]:
    """Set this site's RUNNING flow runs (and their RUNNING task runs) whose process is gone to CRASHED.

    Returns the names of the flow runs marked. Needs the Prefect API (the CLI connects first)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    running = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
    marked = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=running, tags=FlowRunFilterTags(all_=[site_tag(site_name)])))
        for run in runs:
            reason = gone_reason(list(run.tags or []))
            if reason is None:
                continue
            message = f"crashed: {reason}; marked by a later securemode run of site {site_name}"
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                task_run_filter=TaskRunFilter(state=TaskRunFilterState(
                    type=TaskRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING]))))
            for task in tasks:
                client.set_task_run_state(task.id, Crashed(message=message), force=True)
            client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            marked.append(run.name)
    return marked
