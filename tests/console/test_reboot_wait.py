"""Telling a console's SSH service from a port that merely accepts: what a reboot wait watches."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from securemode.console.reboot import ssh_answers, wait_for_reboot
from tests.console.conftest import ServerFactory


def serve(answer: Callable[[socket.socket], None]) -> tuple[socket.socket, int]:
    """A loopback listener that treats each connection with ``answer`` (then closes it)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def loop() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                answer(conn)

    threading.Thread(target=loop, daemon=True).start()
    return listener, listener.getsockname()[1]


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for listener in opened:
        listener.close()


def test_a_console_answers(make_server: ServerFactory) -> None:
    server = make_server()
    assert ssh_answers(server.address, server.port) is True


def test_accept_and_close_is_gone_and_silence_tells_nothing(listeners: list[socket.socket]) -> None:
    closing, closing_port = serve(lambda conn: None)
    silent_event = threading.Event()
    silent, silent_port = serve(lambda conn: silent_event.wait(2))
    other, other_port = serve(lambda conn: conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    listeners += [closing, silent, other]
    assert ssh_answers("127.0.0.1", closing_port) is False  # a relay with no console behind it
    assert ssh_answers("127.0.0.1", other_port) is False
    assert ssh_answers("127.0.0.1", silent_port, timeout_s=0.3) is None
    silent_event.set()
    free = socket.create_server(("127.0.0.1", 0))
    free_port = free.getsockname()[1]
    free.close()
    assert ssh_answers("127.0.0.1", free_port) is False  # closed


def test_a_reboot_behind_a_port_that_stays_open_is_seen_at_once(make_server: ServerFactory) -> None:
    """The console goes away for its reboot while a relay in front keeps the port open: the wait sees the
    reboot start (the relay closes without a word) and end (SSH answers again) without its down timeout."""
    server = make_server()
    relay_up = threading.Event()
    relay_up.set()

    def relay(conn: socket.socket) -> None:
        if relay_up.is_set():
            with socket.create_connection((server.address, server.port), timeout=2) as behind:
                conn.sendall(behind.recv(64))

    front, port = serve(relay)
    try:
        relay_up.clear()  # the console is down: the relay accepts and closes
        threading.Timer(0.5, relay_up.set).start()  # and back half a second later
        started = time.monotonic()
        assert wait_for_reboot("127.0.0.1", port, down_timeout_s=30, up_timeout_s=10)
        assert time.monotonic() - started < 5  # a TCP-level wait would have sat out the 30 s
    finally:
        front.close()
