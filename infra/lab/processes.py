"""Lab processes by PID: spawn detached children, recognise them later from another process, stop them.

``lab up`` exits while the lab keeps running, so ``lab down`` (another process) only has the
manifest. A PID alone may be recycled, so every part is recorded with its start time (field 22 of
``/proc/<pid>/stat``) and a marker from its command line; a PID is signalled only when both match.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from securemode.process_identity import start_ticks as start_ticks

_POLL_S = 0.02


class LabProcessError(RuntimeError):
    """A lab child exited or did not report ready in time (the message carries its log tail)."""


@dataclass(frozen=True)
class ProcessIdentity:
    """What identifies one running process across processes: PID, start time, a command-line marker."""

    pid: int
    start_ticks: int
    marker: str

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks, "marker": self.marker}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessIdentity:
        return cls(int(data["pid"]), int(data["start_ticks"]), str(data["marker"]))


def identify(pid: int, marker: str) -> ProcessIdentity:
    """Record the identity of a process we just started (raises when it is already gone)."""
    ticks = start_ticks(pid)
    if ticks is None:
        raise LabProcessError(f"process {pid} ({marker}) exited right after it started")
    return ProcessIdentity(pid, ticks, marker)


def is_running(identity: ProcessIdentity) -> bool:
    """True only while the very process recorded in ``identity`` is alive (not a zombie, not a new PID)."""
    if start_ticks(identity.pid) != identity.start_ticks:
        return False
    try:
        cmdline = Path(f"/proc/{identity.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return identity.marker in cmdline


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (no zombie left in our table)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(identity: ProcessIdentity, timeout: float = 5.0) -> bool:
    """SIGTERM the recorded process, SIGKILL after ``timeout``; True if it had been running."""
    if not is_running(identity):
        _reap(identity.pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(identity.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while True:
        _reap(identity.pid)
        if not is_running(identity):
            return True
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(identity.pid, signal.SIGKILL)
            time.sleep(_POLL_S)
            _reap(identity.pid)
            return True
        time.sleep(_POLL_S)


@dataclass
class Child:
    """A spawned lab child: its Popen (only in the spawning process), log file and ready file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    ready_path: Path | None
    marker: str

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        """Wait for the child's ready JSON (ready file, else the first JSON line of its log)."""
        while True:
            facts = self._ready_facts()
            if facts is not None:
                return facts
            if self.popen.poll() is not None:
                raise LabProcessError(f"{self.name} exited with code {self.popen.returncode}: {tail(self.log_path)}")
            if time.monotonic() > deadline:
                raise LabProcessError(f"{self.name} did not report ready in time: {tail(self.log_path)}")
            time.sleep(_POLL_S)

    def _ready_facts(self) -> dict[str, Any] | None:
        source = self.ready_path if self.ready_path is not None else self.log_path
        try:
            text = source.read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("{") and line.endswith("}"):
                with contextlib.suppress(ValueError):
                    facts: dict[str, Any] = json.loads(line)
                    return facts
        return None

    def identity(self) -> ProcessIdentity:
        return identify(self.popen.pid, self.marker)


def spawn_python(
    name: str,
    module: str,
    args: Sequence[str],
    workdir: Path,
    *,
    ready_file: bool = True,
    env: Mapping[str, str] | None = None,
) -> Child:
    """Start ``python -m module args`` detached (own session, stdin closed, output to ``workdir/<name>.log``).

    With ``ready_file`` the child gets ``--ready-file PATH`` and must write one JSON line there when ready.
    """
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = workdir / f"{name}.log"
    ready_path = workdir / f"{name}.ready.json" if ready_file else None
    argv = [sys.executable, "-m", module, *args]
    if ready_path is not None:
        ready_path.unlink(missing_ok=True)
        argv += ["--ready-file", str(ready_path)]
    child_env = {**os.environ, **(env or {})}
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            start_new_session=True,
        )
    return Child(name, popen, log_path, ready_path, marker=module)


def write_ready(path: Path | None, facts: Mapping[str, Any]) -> None:
    """A child's side of :meth:`Child.wait_ready`: write the facts atomically as one JSON line."""
    line = json.dumps(dict(facts)) + "\n"
    if path is None:
        print(line, end="", flush=True)
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(line)
    tmp.replace(path)


def read_ready_file(path: Path, timeout: float, what: str, cancelled: Callable[[], bool] = lambda: False
                    ) -> dict[str, Any]:
    """Wait for another lab child's ready file (one JSON line) and return its facts.

    Raises SystemExit naming ``what`` when it does not appear within ``timeout`` (a child that cannot
    start without it ends with that message in its log).
    """
    deadline = time.monotonic() + timeout
    while not cancelled():
        with contextlib.suppress(OSError, ValueError):
            facts: dict[str, Any] = json.loads(path.read_text())
            return facts
        if time.monotonic() > deadline:
            break
        time.sleep(_POLL_S)
    raise SystemExit(f"{what} was not ready within {timeout:.0f}s")


def tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def wait_for_signal() -> None:
    """Block until SIGTERM or SIGINT (the way every lab child waits to be stopped)."""
    import threading

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
