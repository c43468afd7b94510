"""`securemode server start --database postgresql`: four pipelines of four sites at once on a managed
PostgreSQL, with no "database is locked" and every task-run record kept (counted through the API)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.deployments import postgres, prefect_server
from securemode.paths import STATE_ENV
from tests.prefect_http import api_http
from tests.unit.sites import SECRET_ENV, example_document, write_site

REPO = Path(__file__).resolve().parents[2]
SECUREMODE = str(Path(sys.executable).with_name("securemode"))


@pytest.fixture(scope="module")
def state() -> Iterator[Path]:
    """A state folder of its own (outside pytest's 0700 tree, so the postgres user can reach it)."""
    old = os.environ.get(STATE_ENV)
    path = Path(tempfile.mkdtemp(prefix="sm-pg-"))
    os.environ[STATE_ENV] = str(path)
    yield path
    subprocess.run([SECUREMODE, "server", "stop"], check=False, capture_output=True)
    assert postgres.current() is None
    shutil.rmtree(path, ignore_errors=True)
    if old is None:
        os.environ.pop(STATE_ENV)
    else:
        os.environ[STATE_ENV] = old


@pytest.fixture(scope="module")
def api(state: Path) -> str:
    started = subprocess.run([SECUREMODE, "server", "start", "--database", "postgresql"], capture_output=True,
                             text=True, check=False, timeout=180)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "database postgresql" in started.stdout
    info = prefect_server.current()
    assert info is not None and info.database == "postgresql"
    return info.api_url


def _env(api: str, state: Path) -> dict[str, str]:
    return {**os.environ, **SECRET_ENV, STATE_ENV: str(state), "PREFECT_API_URL": api, "PYTHONPATH": str(REPO)}


def _site(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    doc = example_document()
    doc["name"] = name
    doc["replication_wait_s"] = 0
    return write_site(folder, doc)


def _task_runs(api: str, site: str) -> int:
    # The site's tag is on its flow runs (task runs go untagged: a tagged task run costs a round trip).
    body = {"flow_runs": {"tags": {"all_": [f"securemode-site:{site}"]}}}
    return int(api_http.post(f"{api}/task_runs/count", json=body, timeout=30).json())


def _settled_count(api: str, site: str, expected: int | None, timeout: float = 60) -> int:
    """Task runs are recorded from events, a little after the run: wait until the count stops moving."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        count = _task_runs(api, site)
        if (expected is not None and count == expected) or (expected is None and count == last and count > 0):
            return count
        last = count
        time.sleep(2)
    return last


def _task_run_rows_in_postgres(state: Path) -> int:
    pg = postgres.current()
    assert pg is not None
    password = (state / "postgres" / "password").read_text().strip()
    done = subprocess.run([str(postgres.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "prefect",
                           "-d", "prefect", "-tAc", "SELECT count(*) FROM task_run"], capture_output=True, text=True,
                          env={**os.environ, "PGPASSWORD": password}, check=True)
    return int(done.stdout.strip())


def test_postgres_runs_under_the_state_folder_on_loopback_with_a_secret_password(api: str, state: Path) -> None:
    pg = postgres.current()
    assert pg is not None
    data = state / "postgres" / "data"
    assert (data / "PG_VERSION").read_text().strip() == "15"
    password = state / "postgres" / "password"
    assert password.stat().st_mode & 0o777 == 0o600
    if os.geteuid() == 0:  # postgres refuses root: it runs as the package's unprivileged user
        assert data.stat().st_uid != 0
        assert Path(f"/proc/{pg.pid}").stat().st_uid == data.stat().st_uid
    cmdline = Path(f"/proc/{pg.pid}/cmdline").read_bytes().split(b"\0")
    assert b"listen_addresses=127.0.0.1" in cmdline
    secret = password.read_text().strip()
    for log in (state / "prefect" / "server.log", state / "postgres" / "postgres.log"):
        assert secret not in log.read_text(errors="replace")
    assert secret not in api_http.get(f"{api}/admin/settings", timeout=10).text


def test_four_pipelines_at_once_lose_nothing(api: str, state: Path, tmp_path: Path) -> None:
    env = _env(api, state)
    baseline = _site(tmp_path / "base", "pg-base")
    first = subprocess.run([sys.executable, "-m", "tests.scale.run_device_pipeline", str(baseline)], env=env,
                           capture_output=True, text=True, timeout=180, cwd=REPO, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    expected = _settled_count(api, "pg-base", None)
    assert expected >= 3

    names = [f"pg-site-{i}" for i in range(4)]
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.scale.run_device_pipeline",
                               str(_site(tmp_path / name, name))], env=env, cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for name in names]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    elapsed = time.monotonic() - started
    for name, proc, output in zip(names, procs, outputs, strict=True):
        assert proc.returncode == 0 and "compliant" in output, f"{name}:\n{output}"
        assert "database is locked" not in output
    counts = {name: _settled_count(api, name, expected) for name in names}
    assert counts == dict.fromkeys(names, expected), f"expected {expected} task runs per site"
    assert "database is locked" not in (state / "prefect" / "server.log").read_text(errors="replace")
    assert _task_run_rows_in_postgres(state) >= 5 * expected  # the records are in PostgreSQL, not SQLite
    print(f"4 pipelines at once on PostgreSQL: {elapsed:.1f} s, {expected} task runs each, none lost")


def test_an_unknown_database_is_refused_naming_the_choices() -> None:
    done = subprocess.run([SECUREMODE, "server", "start", "--database", "mysql"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert "--database: unknown database 'mysql'. Fix: use sqlite or postgresql" in done.stderr
    assert "Traceback" not in done.stderr
