"""The managed local Prefect server: state under the project folder, reused while running, stopped by PID."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.deployments import prefect_server
from securemode.paths import STATE_ENV


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[prefect_server.ServerInfo]:
    old = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(tmp_path_factory.mktemp("prefect-state"))
    info, started = prefect_server.ensure_running()
    assert started
    yield info
    prefect_server.stop()
    if old is None:
        os.environ.pop(STATE_ENV)
    else:
        os.environ[STATE_ENV] = old


def test_state_lives_under_the_project_folder(server: prefect_server.ServerInfo) -> None:
    home = Path(os.environ[STATE_ENV]) / "prefect"
    assert (home / "prefect.db").exists()
    assert json.loads((home / "server.json").read_text())["pid"] == server.pid


def test_second_call_reuses_the_running_server(server: prefect_server.ServerInfo) -> None:
    again, started = prefect_server.ensure_running()
    assert (again, started) == (server, False)


def test_analytics_are_off(server: prefect_server.ServerInfo) -> None:
    with urllib.request.urlopen(f"{server.api_url}/admin/settings", timeout=5) as resp:
        settings = json.load(resp)
    assert settings["server"]["analytics_enabled"] is False


def test_stop_ends_the_process(server: prefect_server.ServerInfo) -> None:
    assert prefect_server.stop()
    assert prefect_server.current() is None
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)
    assert not prefect_server.stop()
