"""The Prefect UI, as an operator sees it in a real headless Chromium, on whatever port the server got.

A pipeline run and a UI-style (deployment) run paused for approval are created on the session's managed
server; the browser then opens the printed UI address and must find the run, its stage subflows, the
artifacts and the approval form. Screenshots are kept under var/test-artifacts/ui/.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import yaml

from securemode.deployments import prefect_server
from securemode.flows.pipeline import secure_mode_deployment
from tests.conftest import REPO
from tests.pipeline.deployment_run import DeploymentRun, start_deployment_run
from tests.polling import wait_until
from tests.prefect_http import api_http
from tests.ui.browser import CHROMIUM, Browser

pytestmark = [
    pytest.mark.usefixtures("prefect_api"),
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is installed by bin/setup"),
]

SHOTS = REPO / "var" / "test-artifacts" / "ui"


def _flow_run_named(api: str, name: str) -> dict[str, Any]:
    found = api_http.post(f"{api}/flow_runs/filter", json={"flow_runs": {"name": {"any_": [name]}}}).json()
    assert len(found) == 1, found
    return dict(found[0])


@pytest.fixture
def deployment_run(site: Path, prefect_api: str) -> Iterator[DeploymentRun]:
    started = start_deployment_run(site)
    worker = started.worker
    yield started
    deadline = time.monotonic() + 90
    while worker.is_alive() and time.monotonic() < deadline:  # decline whatever still waits
        for stage in _paused_children(prefect_api, started.parent):
            api_http.post(f"{prefect_api}/flow_runs/{stage}/resume",
                       json={"run_input": {"approved": False, "who": "test-teardown"}})
        worker.join(timeout=1)


def _paused_children(api: str, parent: UUID) -> list[UUID]:
    query = {"flow_runs": {"parent_flow_run_id": {"any_": [str(parent)]}, "state": {"type": {"any_": ["PAUSED"]}}}}
    runs = api_http.post(f"{api}/flow_runs/filter", json=query).json()
    return [UUID(run["id"]) for run in runs if run["state"]["state_details"]["run_input_keyset"] and api_http.get(
        f"{api}/flow_runs/{run['id']}/input/{run['state']['state_details']['run_input_keyset']['schema']}",
    ).status_code == 200]  # the form is saved just after the pause


def _children(api: str, parent: UUID) -> dict[str, UUID]:
    query = {"flow_runs": {"parent_flow_run_id": {"any_": [str(parent)]}}}
    return {run["name"]: UUID(run["id"]) for run in api_http.post(f"{api}/flow_runs/filter", json=query).json()}


def _paused_child(api: str, parent: UUID, timeout: float) -> UUID:
    """The stage subflow of ``parent`` that paused for approval (Prefect pauses the flow that asks)."""
    found = wait_until(lambda: _paused_children(api, parent), timeout, interval=0.3,
                       what=f"a stage of {parent} pausing for approval")
    return found[0]


def _state(api: str, run_id: UUID) -> dict[str, Any]:
    return dict(api_http.get(f"{api}/flow_runs/{run_id}").json()["state"])


def _drifted_reverify(site: Path) -> UUID:
    """Reverify twice around a drift on the device; the id of the second (failed) reverify run."""
    from securemode.flows.reverify import reverify

    reverify(site_path=str(site), stage_names=["host", "vms"], return_state=True)
    device = site.parent / "device.json"
    device.write_text(json.dumps({**json.loads(device.read_text()), "UserVars.DcuiTimeOut": 0}))
    state = reverify(site_path=str(site), stage_names=["host", "vms"], return_state=True)
    assert state.is_failed() and state.message.startswith("drift: host.stig.ESXI-80-000196 [device] PASS→FAIL")
    return UUID(str(state.state_details.flow_run_id))


def test_ui_names_its_own_server_port(prefect_api: str) -> None:
    info = prefect_server.current()
    assert info is not None and info.port != 4200
    settings = httpx.get(f"{info.ui_url.rstrip('/')}/ui-settings").json()
    assert settings["api_url"] == prefect_api == info.api_url


def test_browser_shows_runs_subflows_artifacts_and_the_approval_form(
        site: Path, tmp_path: Path, prefect_api: str, deployment_run: DeploymentRun) -> None:
    name = yaml.safe_load(site.read_text())["name"]
    paused = _paused_child(prefect_api, deployment_run.parent, 90)
    twin = tmp_path / "twin"  # the same site with a device of its own, run from the CLI's side
    twin.mkdir()
    shutil.copy(site, twin / "site.yaml")
    state = secure_mode_deployment(site_path=str(twin / "site.yaml"), stage_names=["host", "vms"], mode="run",
                                   approve=["host.lockdown"], attest=["vms.bios.supervisor-password"],
                                   approver="alice", return_state=True)
    run = api_http.get(f"{prefect_api}/flow_runs/{state.state_details.flow_run_id}").json()
    assert run["name"].startswith(f"{name}-run-")
    paused_state = _state(prefect_api, paused)
    assert paused_state["name"] == "Paused"
    assert paused_state["message"].startswith("host.lockdown awaits approval: host.stig.ESXI-80-000008 [device] "
                                              "lockdown: None → 'lockdownNormal'")
    info = prefect_server.current()
    assert info is not None
    with Browser() as browser:
        browser.open(info.ui_url)  # the address `securemode server start` prints
        browser.click("Runs")
        browser.wait_for_text(run["name"], "host", "vms", "Paused")
        browser.screenshot(SHOTS / "runs.png")

        browser.open(f"{info.ui_url}runs/flow-run/{run['id']}")
        browser.wait_for_text(run["name"], "Completed", "Subflow Runs")
        browser.click("Subflow Runs")
        browser.wait_for_text("stage-host", "stage-vms")
        time.sleep(2)  # the run graph is a canvas: give it a moment to draw
        browser.screenshot(SHOTS / "pipeline-run.png")
        host = _children(prefect_api, UUID(run["id"]))["host"]
        browser.open(f"{info.ui_url}runs/flow-run/{host}")
        browser.click("Artifacts")
        browser.wait_for_text(f"{name}-host-results", f"{name}-host-summary")
        browser.screenshot(SHOTS / "stage-artifacts.png")

        browser.open(f"{info.ui_url}runs/flow-run/{paused}")
        browser.wait_for_text("Paused", "host.lockdown awaits approval", "stage-host")
        browser.click("Resume")
        form = browser.wait_for_text("Approve gated step host.lockdown", "lockdownNormal", "Approved", "Who")
        assert "Approved (Optional)" not in form and "Who (Optional)" not in form
        assert "Note (Optional)" in form and "default: empty" in form
        browser.screenshot(SHOTS / "approval-form.png")
        browser.click("Submit")  # empty: refused (the form says why), the step stays paused
        browser.wait_for_text("'who' is a required property")
        assert _state(prefect_api, paused)["type"] == "PAUSED"
        browser.screenshot(SHOTS / "approval-form-empty-submit.png")
        browser.evaluate("document.querySelector('[role=switch][aria-checked=false]').click()")
        browser.type_into("textarea", "carol")
        time.sleep(0.5)
        browser.screenshot(SHOTS / "approval-form-filled.png")
        browser.click("Submit")
        wait_until(lambda: _state(prefect_api, paused)["type"] != "PAUSED", 60, what="the approval to resume the stage")

        reverify_run = _drifted_reverify(twin / "site.yaml")
        browser.open(f"{info.ui_url}runs/flow-run/{reverify_run}")
        browser.wait_for_text("Failed", "reverify", "drift: host.stig.ESXI-80-000196 [device] PASS→FAIL")
        time.sleep(1)
        browser.screenshot(SHOTS / "failed-reverify.png")
        assert browser.external_requests == []
    wait_until(lambda: json.loads((site.parent / "device.json").read_text()).get("lockdown") == "lockdownNormal",
               60, what="the approved change to be applied")
