"""Wait out a node's reboot: its console's SSH service goes away, then comes back."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

SSH_IDENTIFICATION = b"SSH-"  # the first bytes an SSH server sends (RFC 4253 §4.2)


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def ssh_answers(host: str, port: int, timeout_s: float = 1.0) -> bool | None:
    """True when an SSH server answers on ``port`` (its identification arrives); False when nothing does: the
    port is closed or dropped, accepts and closes without a word (a relay or balancer with no console behind
    it), or something else answers; None when a connection stays silent, which tells neither."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError:
        return False
    with sock:
        first = b""
        try:
            while len(first) < len(SSH_IDENTIFICATION):
                chunk = sock.recv(len(SSH_IDENTIFICATION) - len(first))
                if not chunk:
                    break
                first += chunk
        except TimeoutError:
            return None
        except OSError:
            return False
        return first == SSH_IDENTIFICATION


def wait_for_port(host: str, port: int, want_open: bool, timeout_s: float, interval_s: float = 0.1) -> bool:
    """True once ``port`` is open (``want_open``) or closed; False when ``timeout_s`` passed first."""
    return _wait(lambda: port_open(host, port) == want_open, timeout_s, interval_s)


def wait_for_reboot(host: str, port: int, down_timeout_s: float, up_timeout_s: float) -> bool:
    """Wait for the SSH service on ``port`` to go away (the reboot started; may already be over) and then to
    answer again. A port that stays open in front of a console that is down counts as gone, so the reboot is
    seen as it happens instead of after ``down_timeout_s``."""
    _wait(lambda: ssh_answers(host, port) is False, down_timeout_s)
    return _wait(lambda: ssh_answers(host, port) is True, up_timeout_s)


def _wait(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
