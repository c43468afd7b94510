"""Work pools, per-site work queues and Prefect's process workers, started and stopped by PID.

Past one machine, flow runs come from deployments in a process work pool and run wherever a worker
runs (reference/prefect.md §6). Two limits keep sites safe: every site has its own work queue with
a concurrency limit of 1 (one site never runs two pipelines at once, whichever worker takes them),
and the pool has a limit of its own (how many pipelines run at once in all).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from securemode.paths import prefect_home
from securemode.prefect_env import prefect_settings
from securemode.process_identity import pid_alive, stop_process

REPO = Path(__file__).resolve().parent.parent
QUEUE_PREFIX = "site-"
PROCESS = "process"
STOP_TIMEOUT_S = 30.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class WorkerError(Exception):
    """A worker could not be started or stopped; the message names the fix."""


class WorkerRecord(BaseModel):
    pid: int
    pool: str
    name: str


def site_queue(site_name: str) -> str:
    """The work queue of one site: its limit of 1 keeps the site's runs one at a time."""
    return f"{QUEUE_PREFIX}{site_name}"


def valid_name(text: str) -> bool:
    """Pool and worker names: letters, digits, '-', '_' and '.', as file names and Prefect names allow."""
    return bool(_NAME.match(text))


def ensure_pool(pool: str, limit: int | None, pool_type: str = PROCESS,
                template: dict[str, Any] | None = None) -> None:
    """Create the work pool (``process`` or ``docker``) if it is missing; set its concurrency limit when one is
    given. A pool of another type is refused: its workers could not run these deployments."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            found = client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=pool, type=pool_type, concurrency_limit=limit,
                base_job_template=template or ProcessWorker.get_default_base_job_template()))
            return
        if found.type != pool_type:
            flag = "with --docker" if found.type == "docker" else "without --docker"
            raise WorkerError(f"--pool: '{pool}' is a {found.type} pool, not a {pool_type} pool. Fix: deploy "
                              f"{flag}, or pick another --pool")
        changes: dict[str, Any] = {}  # only what is given: a limit set earlier stays when none is given now
        if limit is not None:
            changes["concurrency_limit"] = limit
        if template is not None:
            changes["base_job_template"] = template
        if changes:
            client.update_work_pool(pool, WorkPoolUpdate(**changes))


def type_of_pool(pool: str) -> str | None:
    """The type of a work pool (``process``, ``docker``), or None when there is no such pool."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return str(client.read_work_pool(pool).type)
        except ObjectNotFound:
            return None


def ensure_site_queue(pool: str, site_name: str) -> str:
    """The site's work queue in ``pool`` with a concurrency limit of 1; returns its name."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    name = site_queue(site_name)
    with get_client(sync_client=True) as client:
        try:
            queue = client.read_work_queue_by_name(name, work_pool_name=pool)
        except ObjectNotFound:
            client.create_work_queue(name, work_pool_name=pool, concurrency_limit=1,
                                     description=f"runs of site {site_name}, one at a time")
            return name
        if queue.concurrency_limit != 1:
            client.update_work_queue(queue.id, concurrency_limit=1)
    return name


def worker_of(flow_run_id: str) -> str | None:
    """The name of the worker that submitted a flow run, from the worker's own submission event."""
    from prefect import get_client

    body = {"filter": {"event": {"name": ["prefect.worker.submitted-flow-run"]},
                       "related": {"resources_in_roles": [[f"prefect.flow-run.{flow_run_id}", "flow-run"]]},
                       "occurred": {"since": "2000-01-01T00:00:00Z"}},
            "limit": 5}
    with get_client(sync_client=True) as client:
        resp = client.request("POST", "/events/filter", json=body)
        events = resp.json().get("events", [])
    for event in events:
        name = event.get("resource", {}).get("prefect.resource.name")
        if isinstance(name, str):
            return name
    return None


def _folder() -> Path:
    path = prefect_home() / "workers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _record_path(name: str) -> Path:
    return _folder() / f"{name}.json"


def log_path(name: str) -> Path:
    return _folder() / f"{name}.log"


def running() -> list[WorkerRecord]:
    """The workers we started whose processes are still alive."""
    found = []
    for path in sorted(_folder().glob("*.json")):
        try:
            record = WorkerRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if pid_alive(record.pid):
            found.append(record)
    return found


def start(pool: str, name: str, api_url: str, limit: int | None = None, kind: str = PROCESS,
          extra_env: dict[str, str] | None = None) -> WorkerRecord:
    """Start ``prefect worker start`` for ``pool`` in the background: a ``process`` worker runs each flow run as
    a subprocess, a ``docker`` worker as a container (``extra_env`` names its engine)."""
    if any(r.name == name for r in running()):
        raise WorkerError(f"--name: a worker named '{name}' already runs. Fix: securemode worker stop --name "
                          f"{name}, or pick another --name")
    env = {**os.environ, **prefect_settings(), "PREFECT_API_URL": api_url, "PREFECT_WORKER_QUERY_SECONDS": "2",
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
           **(extra_env or {})}
    prefect = Path(sys.executable).with_name("prefect")
    args = [str(prefect), "worker", "start", "--pool", pool, "--name", name, "--type", kind,
            "--no-create-pool-if-not-found"]
    if limit is not None:
        args += ["--limit", str(limit)]
    with log_path(name).open("ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=REPO, start_new_session=True)
    record = WorkerRecord(pid=proc.pid, pool=pool, name=name)
    _record_path(name).write_text(record.model_dump_json(), encoding="utf-8")
    return record


def wait_online(record: WorkerRecord, timeout: float = 60.0) -> bool:
    """True once the worker has said hello to the server (its heartbeat lists it ONLINE in the pool)."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(record.pid):
            return False
        with get_client(sync_client=True) as client:
            workers = client.read_workers_for_work_pool(record.pool)
        if any(w.name == record.name and w.status is not None and w.status.value == "ONLINE" for w in workers):
            return True
        time.sleep(0.5)
    return False


def stop(name: str | None = None) -> list[str]:
    """Stop our workers (all, or the one named) with SIGTERM — a worker ignores the first SIGINT."""
    stopped = []
    for record in running():
        if name is not None and record.name != name:
            continue
        stop_process(record.pid, signal.SIGTERM, signal.SIGKILL, STOP_TIMEOUT_S, group=True)
        _record_path(record.name).unlink(missing_ok=True)
        stopped.append(record.name)
    return stopped


def describe(record: WorkerRecord) -> str:
    return json.dumps(record.model_dump())
