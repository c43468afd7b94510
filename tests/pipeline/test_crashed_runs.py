"""A run killed with kill -9 stays RUNNING in Prefect until the next run of the site marks it CRASHED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from securemode.flows.crashed_runs import mark_crashed_runs

pytestmark = pytest.mark.usefixtures("prefect_api")

# A flow that runs a task which never ends, tagged as a pipeline run is; it prints its flow run id.
FLOW = """
import sys, time
from prefect import flow, task
from securemode.flows.crashed_runs import run_tags

@task
def forever():
    print("task running", flush=True)
    time.sleep(600)

@flow(name="killed-pipeline")
def killed():
    from prefect.runtime import flow_run
    print("flow", flow_run.id, flush=True)
    forever()

with run_tags(sys.argv[1]):
    killed()
"""


def _state(flow_run_id: str) -> tuple[str, str]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    assert state is not None
    return state.type.value, state.message or ""


def test_a_killed_run_is_marked_crashed_by_the_next(prefect_api: str, tmp_path: Path) -> None:
    site = f"crash-test-{os.getpid()}"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    script = tmp_path / "killed_flow.py"
    script.write_text(FLOW)
    proc = subprocess.Popen([sys.executable, str(script), site], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    flow_run_id = None
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("flow "):
                flow_run_id = line.split()[1]
            if line.startswith("task running"):
                break
        assert flow_run_id, "the flow did not start"
        assert mark_crashed_runs(site) == []  # alive: left alone
        assert _state(flow_run_id)[0] == "RUNNING"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert _state(flow_run_id)[0] == "RUNNING"  # nobody told Prefect

    assert len(mark_crashed_runs(site)) == 1
    kind, message = _state(flow_run_id)
    assert kind == "CRASHED"
    assert f"its process {proc.pid}" in message and "kill -9" in message

    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    assert tasks and all(t.state is not None and t.state.type.value != "RUNNING" for t in tasks)
    assert mark_crashed_runs(site) == []  # once only
