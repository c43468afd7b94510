"""`securemode serve` prints one line per run start, pause, approval answer and end (RunWatcher)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from prefect.client.schemas.objects import StateType

from securemode.deployments.run_watch import RunWatcher, Seen, transition
from tests.pipeline.deployment_run import start_deployment_run
from tests.prefect_http import api_http

pytestmark = pytest.mark.usefixtures("prefect_api")


def _s(kind: StateType, message: str = "") -> Seen:
    return Seen(type=kind, name=kind.value.capitalize(), message=message, keyset=None)


def test_transition_rule() -> None:
    assert transition("r", None, _s(StateType.RUNNING)) == ["started r"]
    assert transition("r", None, _s(StateType.COMPLETED)) == ["started r", "ended r: Completed"]
    assert transition("r", _s(StateType.RUNNING), _s(StateType.RUNNING)) == []
    assert transition("r/host", None, _s(StateType.PAUSED, "host.lockdown awaits approval: x"), with_start=False) == \
        ["paused r/host: host.lockdown awaits approval: x"]
    assert transition("r/host", _s(StateType.PAUSED), _s(StateType.RUNNING), "approved by carol") == \
        ["answered r/host: approved by carol"]
    assert transition("r", _s(StateType.RUNNING), _s(StateType.FAILED, "not compliant")) == \
        ["ended r: Failed — not compliant"]
    assert transition("r", _s(StateType.FAILED), _s(StateType.FAILED)) == []


def test_watcher_prints_start_pause_answer_and_end(site: Path, prefect_api: str) -> None:
    lines: list[str] = []
    name = yaml.safe_load(site.read_text())["name"]
    watcher = RunWatcher(name, lines.append)
    started = start_deployment_run(site, stage_names=["host"])

    def answer_next_pause(number: int, run_input: dict[str, object]) -> str:
        deadline = time.monotonic() + 90
        while len([line for line in lines if line.startswith("paused")]) < number and time.monotonic() < deadline:
            watcher.poll_once()
            time.sleep(0.5)
        paused = [line for line in lines if line.startswith("paused")]
        assert len(paused) == number, lines
        host = api_http.post(f"{prefect_api}/flow_runs/filter", json={"flow_runs": {
            "parent_flow_run_id": {"any_": [str(started.parent)]}}}).json()[0]["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the form is saved just after the pause
            resumed = api_http.post(f"{prefect_api}/flow_runs/{host}/resume", json={"run_input": run_input}).json()
            if resumed["status"] == "ACCEPT":
                break
            time.sleep(0.3)
        assert resumed["status"] == "ACCEPT", resumed
        return paused[-1]

    first = answer_next_pause(1, {"approved": True, "who": "carol"})
    assert first.endswith("/host: host.lockdown awaits approval: host.stig.ESXI-80-000008 [device] "
                          "lockdown: None → 'lockdownNormal' (would change)"), first
    second = answer_next_pause(2, {"approved": False, "who": "carol"})
    assert second.endswith("/host: vms.bios.supervisor-password on device awaits attestation: the BIOS supervisor "
                           "password can only be attested by a person"), second
    started.worker.join(timeout=60)
    watcher.poll_once()
    run_name = api_http.get(f"{prefect_api}/flow_runs/{started.parent}").json()["name"]
    assert lines == [
        f"started {run_name}", first, f"answered {run_name}/host: approved by carol",
        second, f"answered {run_name}/host: declined by carol",
        f"ended {run_name}/host: Failed — stage host: MANUAL (not attested): vms.bios.supervisor-password [device]",
        f"ended {run_name}: Failed — not compliant (stopped at host): stage host: MANUAL (not attested): "
        "vms.bios.supervisor-password [device]"]
