"""A fleet: one file listing site files; `fleet reverify` fans one reverify run per site across the workers.

Each site's run comes from its ``reverify/<site>`` deployment in the fleet's work pool, so Prefect's
workers share the runs and each site's queue keeps its runs one at a time. The outcome of every run
is read back through the API alone (flow-run state, the submitting worker, the stage result tables),
so it holds wherever the workers run.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from securemode.problems import InputError, Problem
from securemode.site_loader import LoadedSite, load_site

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun

FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
AWAITING = "AWAITING INPUT"  # a stage paused for an approval or attestation in the UI: it waits for a person
POLL_S = 2.0


class FleetFile(BaseModel):
    """The fleet file: a name, the work pool its runs go to, and the site files (relative to this file)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    pool: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    sites: list[str] = Field(min_length=1)


@dataclass
class Fleet:
    path: Path
    spec: FleetFile
    sites: list[LoadedSite]


@dataclass
class SiteRun:
    """One site's run, as the API tells it."""

    site: str
    flow_run_id: str
    state: str = "SCHEDULED"
    worker: str | None = None
    seconds: float | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def holds(self) -> bool:
        return self.state == "COMPLETED" and sum(self.counts.values()) > 0 and not (
            self.counts["FAIL"] or self.counts["ERROR"])


class FleetError(Exception):
    """The fleet cannot run as asked; the message names the fix."""


def load_fleet(path: Path) -> Fleet:
    """Read and check the fleet file and every site file it lists; every problem is reported at once."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), [Problem(field="fleet file", message=f"cannot read it ({exc.strerror})",
                                             fix="pass the path of a fleet YAML file")]) from None
    except yaml.YAMLError:
        raise InputError(str(path), [Problem(field="fleet file", message="not valid YAML",
                                             fix="fix the YAML syntax")]) from None
    try:
        spec = FleetFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(str(path), [Problem(field=".".join(str(p) for p in e["loc"]) or "fleet file",
                                             message=e["msg"], fix="see examples/fleet.yaml")
                                     for e in exc.errors()]) from None
    problems: list[Problem] = []
    loaded: list[LoadedSite] = []
    for i, entry in enumerate(spec.sites):
        site_path = (path.parent / entry).resolve()
        try:
            loaded.append(load_site(site_path))
        except InputError as exc:
            problems += [Problem(field=f"sites[{i}] ({entry}): {p.field}", message=p.message, fix=p.fix)
                         for p in exc.problems]
    names = Counter(s.site.name for s in loaded)
    problems += [Problem(field="sites", message=f"site name '{n}' appears {c} times",
                         fix="give every site file its own name:") for n, c in names.items() if c > 1]
    if problems:
        raise InputError(str(path), problems)
    return Fleet(path=path, spec=spec, sites=loaded)


def online_workers(pool: str) -> list[str]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        found = client.read_workers_for_work_pool(pool)
    return [w.name for w in found if w.status is not None and w.status.value == "ONLINE"]


def start_reverify(fleet: Fleet) -> list[SiteRun]:
    """Deploy (idempotently) and start one reverify run per site; returns at once."""
    from prefect.deployments import run_deployment

    from securemode.deployments.definitions import REVERIFY, deploy_site
    from securemode.deployments.docker_pool import POOL_TYPE, DockerPoolError
    from securemode.deployments.workers import WorkerError, type_of_pool

    pool = fleet.spec.pool
    docker = type_of_pool(pool) == POOL_TYPE  # a Docker pool keeps its type: its sites run in containers
    try:
        for loaded in fleet.sites:
            deploy_site(loaded, pool, None, docker=docker)
    except (DockerPoolError, WorkerError) as exc:
        raise FleetError(str(exc)) from None
    if not online_workers(pool):
        raise FleetError(f"no worker is online on pool '{pool}'. Fix: securemode worker start --pool {pool}")
    runs = []
    for loaded in fleet.sites:
        flow_run = cast("FlowRun", run_deployment(f"{REVERIFY}/{loaded.site.name}", timeout=0))
        runs.append(SiteRun(site=loaded.site.name, flow_run_id=str(flow_run.id)))
    return runs


def wait(runs: list[SiteRun], timeout: float) -> list[SiteRun]:
    """Poll the runs until every one is final (or the time is up), then read worker, duration and results."""
    from prefect import get_client

    from securemode.deployments.workers import worker_of

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            for run in runs:
                flow_run = client.read_flow_run(run.flow_run_id)  # type: ignore[arg-type]
                run.state = flow_run.state.type.value if flow_run.state else "UNKNOWN"
                run.seconds = flow_run.total_run_time.total_seconds() if flow_run.total_run_time else None
                if run.state == "RUNNING" and (stage := _paused_stage(client, run.flow_run_id)):
                    run.state = f"{AWAITING} ({stage})"
            if all(r.state in FINAL_STATES or r.state.startswith(AWAITING) for r in runs) \
                    or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
    for run in runs:
        run.worker = worker_of(run.flow_run_id)
        run.counts = result_counts(run.flow_run_id)
    return runs


def _paused_stage(client: SyncPrefectClient, flow_run_id: str) -> str | None:
    """The name of a stage of this run that is paused for input, if any."""
    from uuid import UUID

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    stages = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(flow_run_id)])))
    return next((s.name for s in stages if s.state is not None and s.state.type.value == "PAUSED"), None)


def result_counts(flow_run_id: str) -> Counter[str]:
    """PASS/FAIL/ERROR/… per control and target, from the stage result tables the run's stages published."""
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterType,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )

    counts: Counter[str] = Counter()
    with get_client(sync_client=True) as client:
        stages = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(flow_run_id)])))
        ids = [UUID(flow_run_id), *(s.id for s in stages)]
        tables = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=ids), type=ArtifactFilterType(any_=["table"])))
    for table in tables:
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("result"), str):
                counts[row["result"]] += 1
    return counts
