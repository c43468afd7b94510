"""The managed local Prefect server: start it once, reuse it while it runs, stop it by PID.

A dedicated ``prefect server start`` beats the per-process ephemeral server (reference/prefect.md
§0): no 8 s start on every CLI call, schedules run, and task-run records are not lost at exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from securemode.paths import prefect_home
from securemode.prefect_env import prefect_settings
from securemode.process_identity import free_port, pid_alive, stop_process

START_TIMEOUT_S = 90.0
SERVER_MODULE = "securemode.deployments.prefect_server_main"  # Prefect's CLI, SQLite writers waiting their turn
HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    database: str = "sqlite"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}/"


class PrefectServerError(Exception):
    """The local Prefect server could not be started or reached."""


def _record_path() -> Path:
    return prefect_home() / "server.json"


def _log_path() -> Path:
    return prefect_home() / "server.log"


def healthy(info: ServerInfo, timeout: float = 2.0) -> bool:
    """True when the server's /api/health answers."""
    try:
        with urllib.request.urlopen(f"{info.api_url}/health", timeout=timeout) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def current() -> ServerInfo | None:
    """The server we started earlier, if its process is still alive."""
    try:
        info = ServerInfo(**json.loads(_record_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return info if pid_alive(info.pid) else None


def server_environment(info: ServerInfo, database_env: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: our Prefect settings, its database, and the UI pointed at this server's API.

    Without PREFECT_SERVER_UI_API_URL the UI's /ui-settings names port 4200 whatever port the server
    got, so the browser shows "Can't connect" — or another server's data if one listens on 4200.
    """
    env = {**os.environ, **prefect_settings(), **(database_env or {})}
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_UI_API_URL", None)
    env["PREFECT_SERVER_UI_API_URL"] = info.api_url
    return env


def ensure_running(port: int | None = None, database: str = "sqlite",
                   database_env: dict[str, str] | None = None) -> tuple[ServerInfo, bool]:
    """Return the running server, starting one if needed; the flag says whether we started it.

    ``database_env`` (e.g. a PostgreSQL connection URL, see securemode.deployments.postgres) goes only into the
    server's environment; ``database`` names it in the server record."""
    info = current()
    if info is not None and healthy(info):
        return info, False
    if info is not None:
        stop()
    chosen = port or free_port(HOST)
    env = server_environment(ServerInfo(pid=0, port=chosen), database_env)
    log = _log_path().open("ab")
    proc = subprocess.Popen(  # `python -m …`: works in a venv whose scripts were not installed
        [sys.executable, "-m", SERVER_MODULE, "server", "start", "--host", HOST, "--port", str(chosen),
         "--analytics-off"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    log.close()
    info = ServerInfo(pid=proc.pid, port=chosen, database=database)
    _record_path().write_text(json.dumps(asdict(info)), encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PrefectServerError(f"prefect server exited with code {proc.returncode}; see {_log_path()}")
        if healthy(info, timeout=1.0):
            return info, True
        time.sleep(0.25)
    stop()
    raise PrefectServerError(f"prefect server did not answer within {START_TIMEOUT_S:.0f} s; see {_log_path()}")


def stop() -> bool:
    """Stop the server we started (its whole process group, which it leads); True if one was running."""
    info = current()
    _record_path().unlink(missing_ok=True)
    if info is None:
        return False
    return stop_process(info.pid, signal.SIGTERM, signal.SIGKILL, 15, group=True)
