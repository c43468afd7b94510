"""Expect-style reading and answering over one SSH session, with a transcript that holds no secrets.

A prompt is a regular expression that must match at the *end* of what the node has printed so far
(prompts wait for input, so nothing follows them); a message may match anywhere. Every wait has a
deadline, and a miss raises :class:`PromptNotSeen` naming what was expected and what was seen.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import asyncssh

from securemode.console.errors import PromptNotSeen
from securemode.redact import redact

TAIL_CHARS = 200


@dataclass(frozen=True)
class Pattern:
    """A named thing to wait for: a ``prompt`` starts a line and ends the output so far."""

    name: str
    regex: str
    prompt: bool = True

    def search(self, text: str) -> re.Match[str] | None:
        anchored = rf"^(?:{self.regex})[ \t]*\Z" if self.prompt else rf"(?:{self.regex})[^\n]*"
        return re.search(anchored, text, re.IGNORECASE | re.MULTILINE)


class Expect:
    """Drive one interactive session: ``await expect(...)``, then ``send(...)``."""

    def __init__(self, process: asyncssh.SSHClientProcess[str], timeout_s: float, transcript: list[str]) -> None:
        self._process = process
        self.timeout_s = timeout_s
        self.transcript = transcript
        self._buffer = ""

    async def expect(self, *patterns: Pattern, timeout_s: float | None = None) -> tuple[Pattern, re.Match[str], str]:
        """Wait for the first of ``patterns``; returns it, its match, and the text before the match."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        names = " or ".join(p.name for p in patterns)
        while True:
            for pattern in patterns:
                match = pattern.search(self._buffer)
                if match:
                    before = self._buffer[: match.start()]
                    self._record(self._buffer[: match.end()])
                    self._buffer = self._buffer[match.end():]
                    return pattern, match, before
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PromptNotSeen(names, limit, self.tail())
            try:
                chunk = await asyncio.wait_for(self._process.stdout.read(4096), remaining)
            except TimeoutError:
                raise PromptNotSeen(names, limit, self.tail()) from None
            except (asyncssh.Error, ConnectionError):
                chunk = ""
            if chunk == "":
                raise PromptNotSeen(names, limit, self.tail(), closed=True)
            self._buffer += chunk

    async def until_closed(self, timeout_s: float | None = None) -> str:
        """Read until the node closes the session (it reboots); returns what it printed meanwhile."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PromptNotSeen("the session to close", limit, self.tail())
            try:
                chunk = await asyncio.wait_for(self._process.stdout.read(4096), remaining)
            except TimeoutError:
                raise PromptNotSeen("the session to close", limit, self.tail()) from None
            except (asyncssh.Error, ConnectionError):
                chunk = ""
            if chunk == "":
                rest, self._buffer = self._buffer, ""
                self._record(rest)
                return rest
            self._buffer += chunk

    def send(self, text: str, secret: bool = False) -> None:
        """Answer the last prompt; a secret answer shows as ``***`` in the transcript."""
        self._process.stdin.write(text + "\n")
        self.transcript.append("> ***" if secret else f"> {redact(text)}")

    def tail(self) -> str:
        return redact(self._buffer[-TAIL_CHARS:])

    def _record(self, text: str) -> None:
        for line in text.replace("\r", "").splitlines():
            if line.strip():
                self.transcript.append(f"< {redact(line.rstrip())}")
