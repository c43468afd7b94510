"""Docker workers end to end: the project's own dockerd, the worker image built locally (cached inputs), a lab
site deployed to a Docker pool; prefect-docker's worker runs the host stage (it changes the lab) and then its
reverify, each in a container; then the worker and dockerd are stopped by PID and nothing of ours is left."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from securemode.deployments import docker_engine, workers
from securemode.deployments.fleet import result_counts
from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.paths import STATE_ENV
from tests.polling import wait_until
from tests.prefect_http import api_http
from tests.scale.fleet_helpers import REPO, cli_env, own_state, securemode, wait_final


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

    body = {"flow_runs": {"id": {"any_": flow_run_ids}}, "limit": 200}
    return list(api_http.post(f"{api}/task_runs/filter", json=body, timeout=30).json())


def _subflow_ids(api: str, flow_run_id: str) -> list[str]:

    body = {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run_id]}}, "limit": 50}
    return [r["id"] for r in api_http.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()]


def _container_events(api: str, flow_run_id: str) -> list[str]:

    body = {
        "filter": {
            "event": {"prefix": ["prefect.docker.container."]},
            "related": {"resources_in_roles": [[f"prefect.flow-run.{flow_run_id}", "flow-run"]]},
            "occurred": {"since": "2000-01-01T00:00:00Z"},
        },
        "limit": 20,
    }
    return [e["event"] for e in api_http.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]]


def readme_block() -> list[str]:
    """The commands of the README's "Docker workers" section, as written."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text[text.index("### Docker workers") :], re.S)
    assert block, "the README's 'Docker workers' has no sh block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def _run_line(line: str, env: dict[str, str], site: Path) -> str:
    """One README line through bash, with the placeholder site file replaced by the lab's."""
    done = subprocess.run(
        ["bash", "-c", line.replace("--site site.yaml", f"--site {site}")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_readme_commands_run_the_host_stage_and_its_reverify_in_containers(lab_site: Path) -> None:
    name = yaml.safe_load(lab_site.read_text())["name"]
    lines = readme_block()
    split = lines.index("securemode worker stop")
    t0 = time.monotonic()
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        said = {line: _run_line(line, env, lab_site) for line in lines[:split]}
        assert said["securemode docker start"].startswith("started: dockerd (pid ")
        assert f"DOCKER_HOST=unix://{state}/docker/docker.sock" in said["securemode docker start"]
        assert said["securemode image build"].startswith("image: securemode-worker:")
        assert f"deployed: reverify/{name} (docker pool containers" in "".join(said.values())
        assert said["securemode docker status"].startswith("running: dockerd (pid ")
        mixed = securemode(env, "deploy", "--site", str(lab_site), "--pool", "containers")
        assert mixed.returncode == 2 and mixed.stderr.strip() == (
            "--pool: 'containers' is a docker pool, not a process pool. Fix: deploy with --docker, or pick another "
            "--pool"
        )
        engine = docker_engine.current()
        worker_pids = [r.pid for r in workers.running()]
        assert engine is not None and len(worker_pids) == 1
        t_ready = time.monotonic()
        run_id = _apply_then_reverify_host(name)
        _assert_counted_through_the_api(state, name, run_id)
        t_run = time.monotonic()

        containerd = _children(engine.pid)
        said.update({line: _run_line(line, env, lab_site) for line in lines[split:]})
        assert said["securemode worker stop"].strip() == "stopped: box-1"
        assert said["securemode docker stop"].strip() == "stopped"
        for pid in [*worker_pids, engine.pid, *containerd]:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        assert _processes_mentioning(str(state / "docker")) == []
        assert str(state) not in Path("/proc/self/mounts").read_text()
    print(
        f"\ndocker e2e: engine + image + server + deploy + worker {t_ready - t0:.1f} s, two runs in containers "
        f"{t_run - t_ready:.1f} s, total {time.monotonic() - t0:.1f} s"
    )


def _apply_then_reverify_host(name: str) -> str:
    """Apply the host stage in one container, re-prove it in another; both Completed. Returns the reverify run."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = _api()
    host = {"stage_names": ["host"]}  # the lightest stage that changes the lab and then holds
    with temporary_settings(updates={PREFECT_API_URL: api}):
        for flow in ("secure-mode-deployment", "reverify"):
            run_id = str(run_deployment(f"{flow}/{name}", parameters=host, timeout=0).id)
            (run,) = wait_final(api, [run_id], timeout=300)
            assert run["state"]["type"] == "COMPLETED", (flow, run["state"])
            # the worker's submission event is stored a moment after it is sent: a fast run can end first
            assert wait_until(partial(workers.worker_of, run_id), 30, what=f"the worker event of {flow}") == "box-1"
            assert "prefect.docker.container.created" in _container_events(api, run_id)
    return run_id


def _assert_counted_through_the_api(state: Path, name: str, run_id: str) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = _api()
    stages = _subflow_ids(api, run_id)
    tasks = _task_runs(api, [run_id, *stages])
    assert stages == [] and [t["name"] for t in tasks] == ["host/verify"]  # a reverify's stages are its tasks
    assert all(t["state"]["type"] == "COMPLETED" for t in tasks), {t["name"]: t["state"]["type"] for t in tasks}
    # the container wrote the report into the mounted state folder; the API holds the same counts
    report = json.loads((state / "reverify" / name / "last" / "report.json").read_text())
    statuses = Counter(r["status"] for r in report["results"])
    assert statuses["PASS"] > 0 and set(statuses) == {"PASS"}, statuses
    with temporary_settings(updates={PREFECT_API_URL: api}):
        assert result_counts(run_id) == statuses


def _api() -> str:
    from securemode.deployments import prefect_server

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
