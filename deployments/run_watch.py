"""What `securemode serve` prints: one line per run start, pause, approval answer and end.

A daemon thread polls the server for the site's deployment runs and their stage subflows and
compares each run's state with the last one seen; :func:`transition` is the pure rule.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
    FlowRunFilterStartTime,
)
from prefect.client.schemas.objects import FlowRun, StateType

from securemode.redact import redact

TERMINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@dataclass(frozen=True)
class Seen:
    type: StateType
    name: str
    message: str
    keyset: dict[str, str] | None


def transition(label: str, before: Seen | None, now: Seen, answer: str | None = None,
               with_start: bool = True) -> list[str]:
    """The lines to print for a run moving from ``before`` to ``now`` (a poll can miss short states)."""
    was = before.type if before else None
    lines = []
    if with_start and was in (None, StateType.SCHEDULED, StateType.PENDING) and now.type not in (
            StateType.SCHEDULED, StateType.PENDING):
        lines.append(f"started {label}")
    if now.type is StateType.PAUSED and was is not StateType.PAUSED:
        lines.append(f"paused {label}: {now.message}" if now.message else f"paused {label}")
    if was is StateType.PAUSED and now.type is not StateType.PAUSED:
        lines.append(f"answered {label}: {answer}" if answer else f"resumed {label}")
    if now.type in TERMINAL and was not in TERMINAL:
        lines.append(f"ended {label}: {now.name}" + (f" — {now.message}" if now.message else ""))
    return lines


def _seen(run: FlowRun) -> Seen | None:
    if run.state is None:
        return None
    keyset = run.state.state_details.run_input_keyset
    return Seen(type=run.state.type, name=run.state.name or run.state.type.value, message=run.state.message or "",
                keyset=dict(keyset) if keyset else None)


class RunWatcher:
    """Polls the server; calls ``announce`` with one line per transition of the site's runs."""

    def __init__(self, deployment_name: str, announce: Callable[[str], None], poll_s: float = 2.0) -> None:
        self.deployment_name = deployment_name
        self.announce = announce
        self.poll_s = poll_s
        self.since = datetime.now(UTC)
        self.seen: dict[UUID, Seen] = {}
        self.done: set[UUID] = set()
        self._stop = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="run-watch", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a server hiccup must not end `serve`; the next poll retries
                self.poll_once()
            self._stop.wait(self.poll_s)

    def poll_once(self) -> None:
        with get_client(sync_client=True) as client:
            top = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[self.deployment_name])),
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=self.since)), limit=50)
            for run in sorted(top, key=lambda r: r.start_time or self.since):
                if run.id in self.done:
                    continue
                ended = run.state is not None and run.state.type in TERMINAL
                if not ended:
                    self._note(client, run, run.name)
                children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id])), limit=50)
                for child in sorted(children, key=lambda r: r.start_time or self.since):
                    self._note(client, child, f"{run.name}/{child.name}", with_start=False)
                if ended:  # after its stages, so "ended" is the run's last line
                    self._note(client, run, run.name)
                    self.done.add(run.id)

    def _note(self, client: object, run: FlowRun, label: str, with_start: bool = True) -> None:
        now = _seen(run)
        if now is None:
            return
        before = self.seen.get(run.id)
        answer = self._answer(client, run.id, before) if before and before.type is StateType.PAUSED else None
        self.seen[run.id] = now
        for line in transition(label, before, now, answer, with_start):
            self.announce(redact(line))

    @staticmethod
    def _answer(client: object, run_id: UUID, before: Seen) -> str | None:
        if not before.keyset or "response" not in before.keyset:
            return None
        try:
            raw = client.read_flow_run_input(run_id, before.keyset["response"])  # type: ignore[attr-defined]
            answer = json.loads(raw)
        except Exception:
            return None
        verdict = "approved" if answer.get("approved") else "declined"
        return f"{verdict} by {answer.get('who', '?')}"


def watch_runs(deployment_name: str, announce: Callable[[str], None]) -> RunWatcher:
    watcher = RunWatcher(deployment_name, announce)
    watcher.start()
    time.sleep(0)  # let the thread start before serve() takes over the main thread
    return watcher
