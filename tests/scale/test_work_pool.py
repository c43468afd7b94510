"""`securemode deploy --site S --pool P` and `securemode worker start --pool P`: runs come from a process
work pool, spread over two workers, never two of one site at once and never more than the pool's limit."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from securemode.deployments import prefect_server, workers
from tests.polling import wait_until
from tests.scale.fleet_helpers import cli_env, device_site, most_at_once, own_state, securemode, wait_final

SITES = ["wp-a", "wp-b", "wp-c"]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with own_state() as state:
        env = cli_env(state, device_stages=True)
        started = securemode(env, "server", "start", timeout=180)
        assert started.returncode == 0, started.stderr
        folder = tmp_path_factory.mktemp("wp-sites")
        for i, name in enumerate(SITES):
            done = securemode(env, "deploy", "--site", str(device_site(folder / name, name)), "--pool", "wp",
                              *(["--pool-limit", "2"] if i == 0 else []))
            assert done.returncode == 0, done.stdout + done.stderr
            assert f"deployed: secure-mode-deployment/{name} (pool wp, queue site-{name}" in done.stdout
        for name in ("w1", "w2"):
            done = securemode(env, "worker", "start", "--pool", "wp", "--name", name, "--limit", "1")
            assert done.returncode == 0, done.stdout + done.stderr
        info = prefect_server.current()
        assert info is not None
        yield info.api_url, env


def test_runs_spread_over_two_workers_one_per_site_within_the_pool_limit(pool: tuple[str, dict[str, str]]) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, _ = pool
    params = {"stage_names": ["host", "vms"], "approve": ["host.lockdown"],
              "attest": ["vms.bios.supervisor-password"], "approver": "pool-test"}
    with temporary_settings(updates={PREFECT_API_URL: api}):
        ids = [str(run_deployment(f"secure-mode-deployment/{name}", parameters=params, timeout=0).id)
               for name in [*SITES, SITES[0], SITES[1]]]
        runs = wait_final(api, ids, timeout=240)
        # a worker's submission event is stored a moment after it is sent: a fast run can end first
        names = {run["id"]: wait_until(partial(workers.worker_of, run["id"]), 30, what="a worker event")
                 for run in runs}
    assert [r["state"]["type"] for r in runs] == ["COMPLETED"] * len(ids), [r["state"] for r in runs]
    assert set(names.values()) == {"w1", "w2"}, names
    for site in SITES[:2]:  # two runs each: one after the other, whichever workers took them
        assert most_at_once([r for r in runs if f"securemode-site:{site}" in r["tags"]]) == 1
    assert most_at_once(runs) <= 2  # the pool's limit


def test_worker_status_and_stop_by_pid(pool: tuple[str, dict[str, str]]) -> None:
    _, env = pool
    status = securemode(env, "worker", "status")
    assert "running: worker w1 on pool wp" in status.stdout and "running: worker w2 on pool wp" in status.stdout
    pids = [w.pid for w in workers.running()]
    again = securemode(env, "worker", "start", "--pool", "wp", "--name", "w1")
    assert again.returncode == 2 and "--name: a worker named 'w1' already runs" in again.stderr
    stopped = securemode(env, "worker", "stop")
    assert stopped.stdout.strip() == "stopped: w1, w2"
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_deploy_without_a_server_or_to_a_missing_pool_says_what_to_do(tmp_path: Path) -> None:
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        site = device_site(tmp_path, "nosrv")
        done = securemode(env, "deploy", "--site", str(site), "--pool", "wp")
        assert done.returncode == 1
        assert "Fix: securemode server start" in done.stderr and "Traceback" not in done.stderr
        bad = securemode(env, "deploy", "--site", str(site), "--pool", "no pool!")
        assert bad.returncode == 2 and "--pool: 'no pool!' is not a usable name" in bad.stderr
