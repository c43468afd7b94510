"""Approvals through Prefect's pause-for-input, and `securemode serve` registering the deployments."""

from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prefect import flow

from securemode.flows.gates import PrefectPauseGate
from securemode.reports.model import Approval
from tests.prefect_http import api_http
from tests.unit.sites import SECRET_ENV, example_document, with_contingency, write_site

pytestmark = pytest.mark.usefixtures("prefect_api")


@flow(name="gate-probe")
def ask_for_approval() -> Approval | None:
    return PrefectPauseGate().approve("bootstrap.securitywizard", "answers as in the guide")


def _start_approval() -> tuple[threading.Thread, str, dict[str, Approval | None]]:
    """Ask for approval in a thread, under a run name of this test's own (other tests may leave runs paused)."""
    name = f"gate-probe-{uuid.uuid4().hex[:12]}"
    box: dict[str, Approval | None] = {}
    ctx = contextvars.copy_context()  # the Prefect settings of this test, in the approver's thread too
    ask: Callable[[], Approval | None] = ask_for_approval.with_options(flow_run_name=name)
    worker = threading.Thread(target=lambda: box.setdefault("answer", ctx.run(ask)))
    worker.start()
    return worker, name, box


def _paused_run(api: str, name: str, deadline: float) -> str:
    while time.monotonic() < deadline:
        runs = api_http.post(
            f"{api}/flow_runs/filter",
            json={"flow_runs": {"name": {"any_": [name]}, "state": {"type": {"any_": ["PAUSED"]}}}},
        )
        for run in runs.json():
            keyset = run["state"]["state_details"]["run_input_keyset"]
            if keyset and api_http.get(f"{api}/flow_runs/{run['id']}/input/{keyset['schema']}").status_code == 200:
                return str(run["id"])  # paused, and its form is saved (a resume before that is refused)
        time.sleep(0.3)
    raise AssertionError("no flow run paused for input")


@pytest.mark.parametrize(
    ("run_input", "approved"),
    [
        ({"approved": True, "who": "carol", "note": "wizard answers checked"}, True),
        ({"approved": False, "who": "carol", "note": "not today"}, False),
    ],
)
def test_pause_for_input_records_who_approved(prefect_api: str, run_input: dict[str, object], approved: bool) -> None:
    worker, name, box = _start_approval()
    run_id = _paused_run(prefect_api, name, time.monotonic() + 60)
    resp = api_http.post(f"{prefect_api}/flow_runs/{run_id}/resume", json={"run_input": run_input})
    assert resp.json().get("status") == "ACCEPT", resp.text
    worker.join(timeout=60)
    answer = box["answer"]
    if approved:
        assert answer is not None and (answer.who, answer.note) == ("carol", "wizard answers checked")
    else:
        assert answer is None


def test_invalid_input_is_rejected_by_the_server(prefect_api: str) -> None:
    worker, name, _ = _start_approval()
    run_id = _paused_run(prefect_api, name, time.monotonic() + 60)
    bad = api_http.post(f"{prefect_api}/flow_runs/{run_id}/resume", json={"run_input": {"approved": "maybe"}})
    assert bad.json()["status"] == "REJECT"
    for empty in ({}, {"approved": True}, {"approved": True, "who": ""}, {"approved": True, "who": "  "}):
        refused = api_http.post(f"{prefect_api}/flow_runs/{run_id}/resume", json={"run_input": empty}).json()
        assert refused["status"] == "REJECT", (empty, refused)  # required means required: no silent "no"
    ok = api_http.post(f"{prefect_api}/flow_runs/{run_id}/resume", json={"run_input": {"approved": False, "who": "x"}})
    assert ok.json().get("status") == "ACCEPT", ok.text
    worker.join(timeout=60)


@pytest.mark.slow
def test_serve_registers_the_deployments_with_the_schedule(prefect_api: str, tmp_path: Path) -> None:
    doc = with_contingency(example_document())  # its refresh and failover deployments too
    doc["name"] = "served"
    doc["reverify_cron"] = "*/15 * * * *"
    site = write_site(tmp_path, doc)
    securemode = str(Path(sys.executable).with_name("securemode"))
    proc = subprocess.Popen(
        [securemode, "serve", "--site", str(site)],
        env={**os.environ, **SECRET_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        names: dict[str, dict[str, object]] = {}
        wanted = {"secure_mode_deployment", "reverify", "rebuild", "contingency_refresh", "failover"}
        while time.monotonic() < deadline and len(names) < len(wanted):
            found = api_http.post(
                f"{prefect_api}/deployments/filter", json={"deployments": {"name": {"any_": ["served"]}}}
            ).json()
            names = {d["entrypoint"].rsplit(":", 1)[-1]: d for d in found}
            time.sleep(0.5)
        assert set(names) == wanted, names
        assert names["rebuild"]["parameters"] == {"site_path": str(site.resolve()), "reason": "", "declared_by": None,
                                                  "nodes": []}
        schedules = names["reverify"]["schedules"]
        assert [s["schedule"]["cron"] for s in schedules] == ["*/15 * * * *"]
        assert names["secure_mode_deployment"]["parameters"]["site_path"] == str(site.resolve())
        wanted = "securemode served: incident → failover"  # registered with the deployments
        automations: list[str] = []
        while time.monotonic() < deadline and wanted not in automations:
            automations = [a["name"] for a in api_http.post(f"{prefect_api}/automations/filter", json={}).json()]
            time.sleep(0.5)
        assert wanted in automations, automations
        ui = httpx.get(prefect_api.removesuffix("/api") + "/")
        assert ui.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
