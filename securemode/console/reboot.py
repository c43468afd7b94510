"""Wait out a node's reboot: its console stops answering SSH, then answers again.

"Answering" is the SSH identification line (RFC 4253 §4.2: the server sends ``SSH-2.0-…`` first), not a
TCP accept: whatever accepts in front of the console (a load balancer, a NAT relay) keeps accepting while
the node reboots, and only the banner shows the console itself is there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

BANNER_PREFIX = b"SSH-"
_MAX_BANNER_BYTES = 4096  # RFC 4253 lets a server send other lines first; 255 bytes per line at most


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def ssh_answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether an SSH server on ``host:port`` sends its identification line within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            received = b""
            while len(received) < _MAX_BANNER_BYTES:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(256)
                if not chunk:
                    return False
                received += chunk
                if any(line.startswith(BANNER_PREFIX) for line in received.split(b"\n")):
                    return True
    except OSError:
        return False
    return False


def _wait_until(answers: Callable[[], bool], want: bool, timeout_s: float, interval_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if answers() == want:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def wait_for_port(host: str, port: int, want_open: bool, timeout_s: float, interval_s: float = 0.1) -> bool:
    """True once ``port`` is open (``want_open``) or closed; False when ``timeout_s`` passed first."""
    return _wait_until(lambda: port_open(host, port), want_open, timeout_s, interval_s)


def wait_for_reboot(host: str, port: int, down_timeout_s: float, up_timeout_s: float, interval_s: float = 0.1) -> bool:
    """Wait for the SSH console on ``port`` to stop answering (the reboot started; may already be over) and
    then to answer again."""
    _wait_until(lambda: ssh_answers(host, port), False, down_timeout_s, interval_s)
    return _wait_until(lambda: ssh_answers(host, port), True, up_timeout_s, interval_s)
