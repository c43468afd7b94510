"""One bare login attempt at a node's console, for verifiers: does the node let this login in?

The attempt still checks the pinned host key first — a password is never offered to a peer we cannot
identify — and it opens no shell: authentication is all it tests.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from enum import StrEnum

import asyncssh

from securemode.console.pins import HostKeyPins
from securemode.console.runner import run_sync


class LoginOutcome(StrEnum):
    ACCEPTED = "accepted"  # authenticated
    REFUSED = "refused"  # the SSH service said no
    PORT_CLOSED = "port-closed"  # TCP refused: no SSH service
    SILENT = "silent"  # no answer in time (dropped, or the node is down)
    UNVERIFIED = "unverified"  # no pin, or the node's key differs from the pin: nothing was offered
    FAILED = "failed"  # any other failure (protocol error, …)


# How long an unanswered TCP connect waits before the port counts as silent. A node answers a SYN within its
# round trip (milliseconds on a management network); Linux resends an unanswered SYN after one second, so two
# seconds let one resend through and a single lost packet is not taken for a port that drops. The login
# dialogue that follows a connect keeps the caller's whole timeout.
SYN_WAIT_S = 2.0


@dataclass(frozen=True)
class LoginAttempt:
    outcome: LoginOutcome
    detail: str


async def _attempt(host: str, port: int, username: str, password: str | None, pins: HostKeyPins,
                   timeout_s: float) -> LoginAttempt:
    pinned = pins.get(host, port)
    if pinned is None:
        return LoginAttempt(LoginOutcome.UNVERIFIED, f"no host key pinned for {host}:{port}")
    connect_s = min(timeout_s, SYN_WAIT_S)
    try:
        sock = await _tcp_connect(host, port, connect_s)
        conn = await asyncio.wait_for(
            asyncssh.connect(host, port, sock=sock, username=username, password=password,
                             known_hosts=asyncssh.import_known_hosts(pinned.known_hosts_line() + "\n"),
                             client_keys=None, agent_path=None, kbdint_auth=False, config=None,
                             preferred_auth="password" if password is not None else "none",
                             login_timeout=timeout_s),
            timeout_s,
        )
    except asyncssh.HostKeyNotVerifiable:
        return LoginAttempt(LoginOutcome.UNVERIFIED, f"host key differs from the pinned {pinned.fingerprint}")
    except asyncssh.PermissionDenied:
        return LoginAttempt(LoginOutcome.REFUSED, "permission denied")
    except TimeoutError:
        return LoginAttempt(LoginOutcome.SILENT, f"no answer within {connect_s:g} s to the TCP connect or "
                                                 f"{timeout_s:g} s to the login")
    except OSError as exc:  # ConnectionRefusedError included
        if exc.errno == errno.ECONNREFUSED:
            return LoginAttempt(LoginOutcome.PORT_CLOSED, "connection refused")
        return LoginAttempt(LoginOutcome.FAILED, f"{type(exc).__name__}: {exc.strerror or exc}")
    except asyncssh.Error as exc:
        return LoginAttempt(LoginOutcome.FAILED, f"{type(exc).__name__}: {exc.reason}")
    conn.close()
    await conn.wait_closed()
    return LoginAttempt(LoginOutcome.ACCEPTED, "authenticated")


async def _tcp_connect(host: str, port: int, timeout_s: float) -> socket.socket:
    """A connected socket to ``host:port``; TimeoutError when nothing answers within ``timeout_s``."""
    loop = asyncio.get_running_loop()
    family, kind, proto, _, address = (await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, address), timeout_s)
    except BaseException:
        sock.close()
        raise
    return sock


def attempt_login(host: str, port: int, username: str, password: str | None, pins: HostKeyPins,
                  timeout_s: float = 5.0) -> LoginAttempt:
    """Try to authenticate (``password=None``: offer no credentials at all) and report what happened."""
    return run_sync(_attempt(host, port, username, password, pins, timeout_s))
