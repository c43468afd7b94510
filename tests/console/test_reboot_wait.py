"""Waiting out a console reboot: the console counts as up only when its SSH banner answers, so a relay that
accepts in front of a stopped console reads as down (real sockets on loopback)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from securemode.console.reboot import ssh_answers, wait_for_reboot


class _Server:
    """A loopback TCP listener that greets each client with ``greeting`` (b"" = accept and close)."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                if self.greeting:
                    conn.sendall(self.greeting)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (a bare close would not)
        self.sock.close()
        self._thread.join(2)


@pytest.fixture
def servers() -> Iterator[list[_Server]]:
    made: list[_Server] = []
    yield made
    for server in made:
        server.close()


def test_banner_answers_and_a_bare_accept_does_not(servers: list[_Server]) -> None:
    console = _Server(b"SSH-2.0-lab_console\r\n")
    relay = _Server(b"")
    chatty = _Server(b"welcome to the node\r\nSSH-2.0-lab_console\r\n")
    servers += [console, relay, chatty]
    assert ssh_answers("127.0.0.1", console.port)
    assert ssh_answers("127.0.0.1", chatty.port)  # RFC 4253 allows lines before the identification line
    assert not ssh_answers("127.0.0.1", relay.port)
    console_port = console.port
    console.close()
    assert not ssh_answers("127.0.0.1", console_port)


def test_reboot_is_over_when_the_banner_is_back(servers: list[_Server]) -> None:
    """The port never stops accepting (a relay), yet the reboot is seen and waited out in well under the
    down timeout: the banner goes away, then comes back."""
    relay = _Server(b"")
    servers.append(relay)

    def come_back() -> None:
        time.sleep(0.5)
        relay.greeting = b"SSH-2.0-lab_console\r\n"

    threading.Thread(target=come_back, daemon=True).start()
    t0 = time.monotonic()
    assert wait_for_reboot("127.0.0.1", relay.port, down_timeout_s=30, up_timeout_s=5)
    assert time.monotonic() - t0 < 3, "the wait took the down timeout: the reboot was not seen"


def test_a_console_that_never_comes_back_times_out(servers: list[_Server]) -> None:
    relay = _Server(b"")
    servers.append(relay)
    assert not wait_for_reboot("127.0.0.1", relay.port, down_timeout_s=0.2, up_timeout_s=0.5)
