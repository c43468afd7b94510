"""Docker workers end to end: the project's own dockerd, the worker image built locally (cached inputs), a lab
site deployed to a Docker pool; prefect-docker's worker runs the host stage (it changes the lab) and then its
reverify, each in a container; then the worker and dockerd are stopped by PID and nothing of ours is left."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.lab.lifecycle import UpOptions, down, up
from securemode import docker_engine, workers
from securemode.fleet import result_counts
from securemode.paths import STATE_ENV
from tests.scale.fleet_helpers import cli_env, own_state, securemode, wait_final

POOL = "containers"


def _engine_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "dockerd and the lab need root"
    if shutil.which("dockerd") is None and not Path("/usr/sbin/dockerd").exists():
        return "dockerd is not installed (apt-get install -y docker.io; bin/setup installs it)"
    return None


@pytest.fixture(scope="module")
def lab_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if reason := _engine_unavailable():
        pytest.skip(reason)
    saved = os.environ[STATE_ENV]
    folder = Path(str(tmp_path_factory.mktemp("docker-lab")))
    os.environ[STATE_ENV] = str(folder)
    try:
        site = up(UpOptions(nodes=1, sync_interval_s=0.5)).manifest.site_file
        doc = yaml.safe_load(site.read_text())
        # unattended: the host stage's one gated step is approved in advance, nothing pauses for input
        doc["approvals"] = {"mode": "preapproved", "preapproved": ["host.lockdown"], "approver": "docker-test"}
        site.write_text(yaml.safe_dump(doc, sort_keys=False))
        os.environ[STATE_ENV] = saved
        yield site
    finally:
        os.environ[STATE_ENV] = str(folder)
        down()
        os.environ[STATE_ENV] = saved


def _processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line names ``text`` (our state folder): none may be left at the end."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline[:160]}")
    return found


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _task_runs(api: str, flow_run_ids: list[str]) -> list[dict[str, object]]:
    import httpx

    body = {"flow_runs": {"id": {"any_": flow_run_ids}}, "limit": 200}
    return list(httpx.post(f"{api}/task_runs/filter", json=body, timeout=30).json())


def _subflow_ids(api: str, flow_run_id: str) -> list[str]:
    import httpx

    body = {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run_id]}}, "limit": 50}
    return [r["id"] for r in httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()]


def _container_events(api: str, flow_run_id: str) -> list[str]:
    import httpx

    body = {"filter": {"event": {"prefix": ["prefect.docker.container."]},
                       "related": {"resources_in_roles": [[f"prefect.flow-run.{flow_run_id}", "flow-run"]]},
                       "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 20}
    return [e["event"] for e in httpx.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_reverify_runs_in_a_container_of_the_docker_pool_and_nothing_is_left(lab_site: Path) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    name = yaml.safe_load(lab_site.read_text())["name"]
    t0 = time.monotonic()
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        started = securemode(env, "docker", "start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("started: dockerd (pid ") and f"unix://{state}/docker/docker.sock" in \
            started.stdout
        engine = docker_engine.current()
        assert engine is not None
        built = securemode(env, "image", "build", timeout=900)
        assert built.returncode == 0, built.stdout + built.stderr
        assert built.stdout.startswith("image: securemode-worker:"), built.stdout
        t_image = time.monotonic()
        assert securemode(env, "server", "start", timeout=180).returncode == 0
        deployed = securemode(env, "deploy", "--site", str(lab_site), "--pool", POOL, "--docker")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert f"deployed: reverify/{name} (docker pool {POOL}" in deployed.stdout
        worker = securemode(env, "worker", "start", "--pool", POOL, "--name", "d1")
        assert worker.returncode == 0, worker.stdout + worker.stderr
        worker_pid = next(r.pid for r in workers.running() if r.name == "d1")
        api = _api()
        with temporary_settings(updates={PREFECT_API_URL: api}):
            host = {"stage_names": ["host"]}  # the lightest stage that changes the lab and then holds
            for flow in ("secure-mode-deployment", "reverify"):  # apply in a container, then re-prove in another
                run_id = str(run_deployment(f"{flow}/{name}", parameters=host, timeout=0).id)
                (run,) = wait_final(api, [run_id], timeout=300)
                assert run["state"]["type"] == "COMPLETED", (flow, run["state"])
                assert workers.worker_of(run_id) == "d1"
                assert "prefect.docker.container.created" in _container_events(api, run_id)
            stages = _subflow_ids(api, run_id)
            tasks = _task_runs(api, [run_id, *stages])
            assert len(stages) == 1 and len(tasks) > 0
            assert all(t["state"]["type"] == "COMPLETED" for t in tasks), {t["name"]: t["state"]["type"] for t in tasks}
            report = json.loads((state / "reverify" / name / "last" / "report.json").read_text())  # the container wrote
            statuses = Counter(r["status"] for r in report["results"])  # it into the mounted state folder
            assert statuses["PASS"] > 0 and set(statuses) == {"PASS"}, statuses
            assert result_counts(run_id) == statuses  # the stage's result table, read back through the API
        t_run = time.monotonic()

        containerd = _children(engine.pid)
        assert securemode(env, "worker", "stop").stdout.strip() == "stopped: d1"
        stopped = securemode(env, "docker", "stop")
        assert stopped.stdout.strip() == "stopped"
        for pid in [worker_pid, engine.pid, *containerd]:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        assert _processes_mentioning(str(state / "docker")) == []
        assert str(state) not in Path("/proc/self/mounts").read_text()
    print(f"\ndocker e2e: engine + image {t_image - t0:.1f} s, server + deploy + worker + run "
          f"{t_run - t_image:.1f} s, total {time.monotonic() - t0:.1f} s")


def _api() -> str:
    from securemode import prefect_server

    info = prefect_server.current()
    assert info is not None
    return info.api_url


def test_a_missing_or_broken_engine_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        built = securemode(env, "image", "build")
        assert built.returncode == 1
        assert built.stderr.strip() == "the project's Docker engine is not running. Fix: securemode docker start"
        missing = securemode({**env, "SECUREMODE_DOCKERD": str(tmp_path / "dockerd")}, "docker", "start")
        assert missing.returncode == 1
        assert missing.stderr.strip() == "dockerd not found. Fix: apt-get install -y docker.io (bin/setup installs it)"
        broken = securemode({**env, "SECUREMODE_DOCKERD": "/bin/false"}, "docker", "start")
        assert broken.returncode == 1 and "Traceback" not in broken.stderr
        assert broken.stderr.startswith("dockerd exited with code 1") and len(broken.stderr.strip().splitlines()) == 1
        assert securemode(env, "docker", "status").stdout.strip() == "not running"
