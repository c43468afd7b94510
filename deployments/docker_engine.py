"""The project-managed Docker engine: Debian's ``dockerd`` with every file under the state folder.

Docker workers need an engine, and the machine's own one (if any) is not ours to use or to change.
This module runs ``dockerd`` with its own data root, exec root, PID file and unix socket in
``STATE/docker``; no iptables rules and no bridge (containers use the host network), overlay2
storage. It is started and stopped by PID, like the managed Prefect server and PostgreSQL, and
only ever reached through its own socket (``DOCKER_HOST=unix://STATE/docker/docker.sock``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from securemode.paths import state_dir
from securemode.process_identity import pid_alive, stop_process

DOCKERD_ENV = "SECUREMODE_DOCKERD"  # another dockerd binary (a path or a name on PATH)
STORAGE_DRIVER = "overlay2"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


class DockerEngineError(Exception):
    """The engine is missing, cannot start or is not running; the message names the fix (one line)."""


@dataclass(frozen=True)
class EngineInfo:
    pid: int
    socket: str

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"


def root() -> Path:
    path = state_dir() / "docker"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def socket_path() -> Path:
    return root() / "docker.sock"


def log_path() -> Path:
    return root() / "dockerd.log"


def _record_path() -> Path:
    return root() / "engine.json"


def _exec_root() -> Path:
    return root() / "exec"


def dockerd_args(base: Path) -> list[str]:
    """The command line of our engine: no firewall rules, no bridge, its own folders and socket."""
    return [
        "dockerd",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        f"--storage-driver={STORAGE_DRIVER}",
        f"--data-root={base / 'data'}",
        f"--exec-root={base / 'exec'}",
        f"--pidfile={base / 'docker.pid'}",
        f"--host=unix://{base / 'docker.sock'}",
        "--log-level=warn",
    ]


def current() -> EngineInfo | None:
    """The engine we started earlier, if its dockerd still runs."""
    try:
        info = EngineInfo(**json.loads(_record_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return info if pid_alive(info.pid) else None


def ready(info: EngineInfo) -> bool:
    """True when the engine answers a ping on its socket."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.DockerClient(base_url=info.docker_host, timeout=5)
    except DockerException:
        return False
    try:
        return bool(client.ping())
    except (DockerException, OSError):
        return False
    finally:
        client.close()


def require_running() -> EngineInfo:
    """The running engine, or a one-line error that says how to start it."""
    info = current()
    if info is None or not ready(info):
        raise DockerEngineError("the project's Docker engine is not running. Fix: securemode docker start")
    return info


def client(info: EngineInfo | None = None) -> Any:  # docker ships no type hints
    """A Docker SDK client on our engine's socket (never the system's default one)."""
    import docker

    return docker.DockerClient(base_url=(info or require_running()).docker_host, timeout=300)


def _binary() -> str:
    wanted = os.environ.get(DOCKERD_ENV)
    if wanted:
        found = shutil.which(wanted)
    else:
        found = shutil.which("dockerd") or next(
            (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if Path(p).exists()), None
        )
    if found is None:
        raise DockerEngineError("dockerd not found. Fix: apt-get install -y docker.io (bin/setup installs it)")
    return found


def _last_error() -> str:
    """': <the last error line dockerd logged>' for a one-line message, or '' when it logged nothing."""
    try:
        lines = log_path().read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if "level=error" in line or "level=fatal" in line or "failed" in line]
    last = (errors or lines or [""])[-1].strip()[-300:]
    return f": {last}" if last else ""


def ensure_running() -> tuple[EngineInfo, bool]:
    """Return the running engine, starting it if needed; the flag says whether we started it."""
    info = current()
    if info is not None and ready(info):
        return info, False
    if info is not None:
        stop()
    binary = _binary()
    base = root()
    args = [binary, *dockerd_args(base)[1:]]
    with log_path().open("ab") as log:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    info = EngineInfo(pid=proc.pid, socket=str(socket_path()))
    _record_path().write_text(json.dumps(asdict(info)), encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _record_path().unlink(missing_ok=True)
            _unmount_leftovers()
            raise DockerEngineError(f"dockerd exited with code {proc.returncode}{_last_error()} (log: {log_path()})")
        if ready(info):
            return info, True
        time.sleep(0.1)
    stop()
    raise DockerEngineError(f"dockerd did not answer within {START_TIMEOUT_S:.0f} s{_last_error()} (log: {log_path()})")


def stop() -> bool:
    """Stop our dockerd by PID (SIGTERM: it stops its containers and containerd); True if one was running."""
    info = current()
    _record_path().unlink(missing_ok=True)
    if info is None:
        _unmount_leftovers()
        return False
    stop_process(info.pid, signal.SIGTERM, signal.SIGKILL, STOP_TIMEOUT_S, group=False)
    _unmount_leftovers()
    return True


def _unmount_leftovers() -> None:
    """dockerd may leave its network-namespace mount behind; unmount anything still under our exec root."""
    exec_root = str(_exec_root())
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    targets = [m.split()[1] for m in mounts if len(m.split()) > 1 and m.split()[1].startswith(exec_root + "/")]
    for target in sorted(targets, key=len, reverse=True):
        with contextlib.suppress(OSError):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)
