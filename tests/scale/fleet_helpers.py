"""Shared by the work-pool and fleet tests: a state folder and server of their own, sites, and run timing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from securemode.paths import STATE_ENV
from tests.polling import wait_until
from tests.prefect_http import api_http
from tests.unit.sites import SECRET_ENV, example_document, write_site

REPO = Path(__file__).resolve().parents[2]
DEVICE_SITES = Path(__file__).resolve().parent / "device_sites"
SECUREMODE = str(Path(sys.executable).with_name("securemode"))
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@contextmanager
def own_state() -> Iterator[Path]:
    """A state folder of its own (outside pytest's 0700 tree); the workers, server and dockerd are stopped by PID
    after."""
    old = os.environ.get(STATE_ENV)
    path = Path(tempfile.mkdtemp(prefix="sm-fleet-"))
    os.environ[STATE_ENV] = str(path)
    try:
        yield path
    finally:
        subprocess.run([SECUREMODE, "worker", "stop"], check=False, capture_output=True)
        subprocess.run([SECUREMODE, "server", "stop"], check=False, capture_output=True)
        subprocess.run([SECUREMODE, "docker", "stop"], check=False, capture_output=True)
        if old is None:
            os.environ.pop(STATE_ENV)
        else:
            os.environ[STATE_ENV] = old
        shutil.rmtree(path, ignore_errors=True)


def cli_env(state: Path, device_stages: bool) -> dict[str, str]:
    """The environment of a securemode command; with ``device_stages`` its flow runs use the test stages."""
    path = [str(DEVICE_SITES), str(REPO)] if device_stages else [str(REPO)]
    return {**os.environ, **SECRET_ENV, STATE_ENV: str(state), "PYTHONPATH": os.pathsep.join(path)}


def securemode(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECUREMODE, *args], env=env, capture_output=True, text=True, check=False,
                          timeout=timeout, cwd=REPO)


def device_site(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = example_document()
    doc["name"] = name
    doc["replication_wait_s"] = 0
    return write_site(folder, doc)


def wait_final(api: str, run_ids: list[str], timeout: float) -> list[dict[str, Any]]:

    seen: list[tuple[str, str]] = []

    def finished() -> list[dict[str, Any]] | None:
        runs = [api_http.get(f"{api}/flow_runs/{rid}", timeout=30).json() for rid in run_ids]
        seen[:] = [(r["name"], r["state"]["type"]) for r in runs]
        return runs if all(r["state"]["type"] in FINAL for r in runs) else None

    try:
        return wait_until(finished, timeout, interval=0.5, what="every run finishing")
    except AssertionError as exc:
        raise AssertionError(f"runs not finished: {seen}") from exc


def interval(run: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(run["start_time"]), datetime.fromisoformat(run["end_time"])


def most_at_once(runs: list[dict[str, Any]]) -> int:
    """The largest number of these runs that were running at the same instant."""
    edges = sorted([(interval(r)[0], 1) for r in runs] + [(interval(r)[1], -1) for r in runs],
                   key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak
