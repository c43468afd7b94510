"""Which process is which: a PID plus its start time, so a reused PID is never mistaken for ours."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot, or None when there is no such live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[19])


def pid_alive(pid: int) -> bool:
    """True while a process with this PID exists (ours or, on EPERM, someone else's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port(host: str) -> int:
    """A TCP port nobody listens on at ``host`` right now (the caller binds it next)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop_process(pid: int, first: signal.Signals, last: signal.Signals, timeout_s: float, *,
                 group: bool) -> bool:
    """Send ``first`` (to the process group it leads when ``group``), wait up to ``timeout_s`` while reaping it
    if it is our child, then ``last`` if it is still alive. False when there was no such process to signal."""
    send = os.killpg if group else os.kill
    try:
        send(pid, first)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and pid_alive(pid):
        _reap(pid)
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            send(pid, last)
        _reap(pid)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
