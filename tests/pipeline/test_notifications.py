"""Webhook notifications through Prefect automations, delivered to a local HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from securemode.deployments.notifications import register_notifications
from securemode.flows.reverify import run_reverify
from securemode.site_loader import load_site
from tests.pipeline.deployment_run import start_deployment_run
from tests.prefect_http import api_http

pytestmark = pytest.mark.usefixtures("prefect_api")


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=hook-token-Q9"
    server.shutdown()
    server.server_close()


def _wait_for(kind: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in Receiver.received if m.get("kind") == kind]
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no {kind} webhook; received {Receiver.received}")


def test_webhooks_on_approval_failure_and_drift(site: Path, prefect_api: str, receiver: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SM_WEBHOOK_URL", receiver)
    doc = yaml.safe_load(site.read_text())
    doc["notifications"] = {"webhook_url": "env:SM_WEBHOOK_URL"}
    site.write_text(yaml.safe_dump(doc))
    name = doc["name"]
    names = register_notifications(load_site(site))
    assert names == [f"securemode {name}: failed run", f"securemode {name}: drift", f"securemode {name}: approval"]
    assert register_notifications(load_site(site)) == names  # replaced, not duplicated
    listed = api_http.post(f"{prefect_api}/automations/filter", json={}).json()
    assert sorted(a["name"] for a in listed if a["name"].startswith(f"securemode {name}:")) == sorted(names)

    started = start_deployment_run(site, stage_names=["host"])
    approval = _wait_for("approval")
    assert approval["site"] == name
    assert approval["text"].startswith("host lockdown awaits approval: host.stig.ESXI-80-000008 [device] lockdown: "
                                       "None → 'lockdownNormal' (would change), approve at http://127.0.0.1:")
    assert "/runs/flow-run/" in approval["text"]
    deadline = time.monotonic() + 60
    while started.worker.is_alive() and time.monotonic() < deadline:  # decline every pause: the run fails
        paused = {"parent_flow_run_id": {"any_": [str(started.parent)]}, "state": {"type": {"any_": ["PAUSED"]}}}
        for run in api_http.post(f"{prefect_api}/flow_runs/filter", json={"flow_runs": paused}).json():
            api_http.post(f"{prefect_api}/flow_runs/{run['id']}/resume",
                       json={"run_input": {"approved": False, "who": "carol"}})
        started.worker.join(timeout=1)
    failed = _wait_for("failed")
    assert "failed: not compliant (stopped at host): stage host: FAIL: host.stig.ESXI-80-000008 [device]" \
        in failed["text"]
    assert failed["text"].endswith(f"/runs/flow-run/{started.parent}")

    device = site.parent / "device.json"
    run_reverify(site_path=str(site), stage_names=["host"])
    device.write_text(json.dumps({**json.loads(device.read_text()), "UserVars.DcuiTimeOut": 0}))
    run_reverify(site_path=str(site), stage_names=["host"])
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    drift = _wait_for("drift")
    assert drift["text"].startswith(f"drift on {name}: host.stig.ESXI-80-000196 [device] PASS→FAIL; report ")
    assert "hook-token-Q9" not in json.dumps(Receiver.received)  # the URL (a secret) is never echoed
