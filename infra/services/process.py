"""Start a lab daemon in the foreground, wait until it really answers, and stop it by PID.

Every launcher in this package runs its daemon in the foreground (slapd ``-d 0``, chronyd ``-d``,
rsyslogd ``-n``, dnsmasq ``--keep-in-foreground``), so the PID we spawn is the daemon's PID: we can
stop exactly that process and nothing else, and reap it so it never lingers as a zombie.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_POLL_S = 0.01


class ServiceStartError(RuntimeError):
    """A lab daemon exited or did not answer in time; the message carries the tail of its output."""


@dataclass
class ServiceHandle:
    """A running lab daemon: its PID, where it listens, and how to stop it.

    ``endpoints`` maps a name (``"ldaps"``, ``"ntp"``, ``"udp"`` …) to ``(address, port)``.
    ``startup_s`` is the wall time from spawn until the service answered.
    """

    name: str
    pid: int
    workdir: Path
    endpoints: dict[str, tuple[str, int]]
    startup_s: float
    executable: str
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False, compare=False)

    def alive(self) -> bool:
        """True while the daemon process exists (and is not a zombie we spawned)."""
        if self._popen is not None:
            return self._popen.poll() is None
        return _is_our_process(self.pid, self.executable)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the daemon by PID: SIGTERM, then SIGKILL after ``timeout``. Safe to call twice."""
        stop_pid(self.pid, self.executable, timeout=timeout, popen=self._popen)
        while self._cleanup:
            with contextlib.suppress(OSError):
                self._cleanup.pop()()

    def describe(self) -> dict[str, Any]:
        """Public facts about the service (no secrets): for a lab state file or a report."""
        return {
            "name": self.name,
            "pid": self.pid,
            "workdir": str(self.workdir),
            "endpoints": {k: list(v) for k, v in self.endpoints.items()},
            "startup_s": round(self.startup_s, 4),
        }

    def __enter__(self) -> ServiceHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(argv: Sequence[str], workdir: Path, log_name: str) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``workdir`` with stdout+stderr appended to ``workdir/<log_name>``."""
    log = open(workdir / log_name, "ab")  # noqa: SIM115 - the child owns it; we close our copy below
    try:
        return subprocess.Popen(
            list(argv),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the caller's terminal must not hit the daemon directly
        )
    finally:
        log.close()


@contextlib.contextmanager
def stopped_on_failure(stop: Callable[[], None]) -> Iterator[None]:
    """Run a start-up block; if anything in it fails (or is interrupted), stop the half-started service."""
    try:
        yield
    except BaseException:
        stop()
        raise


def wait_ready(
    popen: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    log_path: Path,
    timeout: float = 10.0,
) -> None:
    """Poll ``ready()`` until it is true; raise ServiceStartError (and kill the child) otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if popen.poll() is not None:
            raise ServiceStartError(f"{what} exited with code {popen.returncode}: {_tail(log_path)}")
        with contextlib.suppress(OSError):
            if ready():
                return
        if time.monotonic() > deadline:
            stop_pid(popen.pid, None, timeout=2.0, popen=popen)
            raise ServiceStartError(f"{what} did not answer within {timeout:.1f}s: {_tail(log_path)}")
        time.sleep(_POLL_S)


def stop_pid(
    pid: int,
    executable: str | None,
    *,
    timeout: float = 5.0,
    popen: subprocess.Popen[bytes] | None = None,
) -> None:
    """Terminate one process by PID, reaping it if we spawned it.

    When ``popen`` is None (a handle rebuilt in another process) the PID is only signalled if
    ``/proc/<pid>`` still runs ``executable``, so a recycled PID is never killed.
    """
    if popen is not None:
        if popen.poll() is not None:
            return
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout)
        return
    if executable is None or not _is_our_process(pid, executable):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_our_process(pid, executable):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(_POLL_S)


def _is_our_process(pid: int, executable: str) -> bool:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and Path(argv0).name == Path(executable).name


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def free_port(address: str = "127.0.0.1", protocols: Sequence[str] = ("tcp", "udp")) -> int:
    """A port number that is currently free on ``address`` for every protocol in ``protocols``."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(200):
        with socket.socket(family, socket.SOCK_STREAM if protocols[0] == "tcp" else socket.SOCK_DGRAM) as s:
            s.bind((address, 0))
            port: int = s.getsockname()[1]
        if all(_can_bind(address, port, proto) for proto in protocols):
            return port
    raise RuntimeError(f"no free port found on {address} for {'+'.join(protocols)}")


def _can_bind(address: str, port: int, proto: str) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def tcp_listening(address: str, port: int) -> bool:
    """True when something accepts TCP connections on ``address:port`` (opens one connection)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect((address, port))
        except OSError:
            return False
    return True


def bound_sockets(proto: str) -> set[tuple[str, int]]:
    """(address, port) of every IPv4 socket bound for ``proto`` ('udp', or 'tcp' in LISTEN state).

    Read from /proc/net so readiness checks need not send anything that would end up in a log.
    """
    found: set[tuple[str, int]] = set()
    table = Path(f"/proc/net/{proto}").read_text().splitlines()[1:]
    for row in table:
        cols = row.split()
        local, state = cols[1], cols[3]
        if proto == "tcp" and state != "0A":  # 0A = LISTEN
            continue
        hex_ip, hex_port = local.split(":")
        ip = ".".join(str(b) for b in reversed(bytes.fromhex(hex_ip)))
        found.add((ip, int(hex_port, 16)))
    return found


def ensure_workdir(workdir: Path | str) -> Path:
    """Create ``workdir`` (0700: it holds keys and passwords) and return it as an absolute Path."""
    path = Path(workdir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
