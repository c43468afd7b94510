"""Wait out a node's reboot: its console port goes away, then comes back."""

from __future__ import annotations

import socket
import time


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, want_open: bool, timeout_s: float, interval_s: float = 0.1) -> bool:
    """True once ``port`` is open (``want_open``) or closed; False when ``timeout_s`` passed first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if port_open(host, port) == want_open:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def wait_for_reboot(host: str, port: int, down_timeout_s: float, up_timeout_s: float) -> bool:
    """Wait for ``port`` to close (the reboot started; may already be over) and then to open again."""
    wait_for_port(host, port, want_open=False, timeout_s=down_timeout_s)
    return wait_for_port(host, port, want_open=True, timeout_s=up_timeout_s)
