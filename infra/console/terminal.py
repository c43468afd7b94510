"""Line-oriented I/O over one SSH session, with or without a PTY.

With a PTY (a person at `ssh -t`) asyncssh's line editor echoes input and we switch echo off for
passwords; without one (the engine's expect-style client) input arrives raw and nothing is echoed.
A session idle longer than ``idle_timeout_s`` ends, as a console login shell would.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncssh


class SessionClosed(Exception):
    """The peer went away (EOF, break, disconnect) or stayed idle too long."""


class Terminal:
    def __init__(self, process: asyncssh.SSHServerProcess[str], idle_timeout_s: float) -> None:
        self._process = process
        self._idle_timeout_s = idle_timeout_s
        self.has_pty = process.get_terminal_type() is not None

    def write(self, text: str) -> None:
        try:
            self._process.stdout.write(text)
        except (BrokenPipeError, ConnectionError, asyncssh.Error) as exc:
            raise SessionClosed(str(exc)) from None

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    async def ask(self, prompt: str, secret: bool = False) -> str:
        """Show ``prompt`` and return the answer without its line ending."""
        self.write(prompt)
        if secret:
            self._echo(False)
        try:
            raw = await asyncio.wait_for(self._process.stdin.readline(), self._idle_timeout_s)
        except TimeoutError:
            self.line("\nSession timed out.")
            raise SessionClosed("idle timeout") from None
        except (asyncssh.Error, asyncssh.BreakReceived, asyncssh.SignalReceived, ConnectionError) as exc:
            raise SessionClosed(type(exc).__name__) from None
        finally:
            if secret:
                self._echo(True)
        if raw == "" or "\x03" in raw or "\x04" in raw:
            raise SessionClosed("end of input")
        return raw.rstrip("\r\n")

    def _echo(self, on: bool) -> None:
        channel: Any = self._process.channel
        if self.has_pty:
            with contextlib.suppress(AttributeError, asyncssh.Error):
                channel.set_echo(on)
