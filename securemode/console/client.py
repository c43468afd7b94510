"""ConsoleClient: log in to a node's admin console and drive its wizards, reading prompts and answering.

Every connection checks the node's host key against the pinned one (fail closed: no pin, no
connection). Reads (:meth:`observe`, :meth:`read_security_settings`) never change the node: they
leave before the last question of a wizard is answered, so nothing is saved and nothing reboots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import asyncssh
from pydantic import SecretStr

from securemode.console import prompts
from securemode.console.answers import ROWS, InstallAnswers, Value, WizardRow
from securemode.console.errors import (
    AnswerRejected,
    ConsoleError,
    HostKeyMismatch,
    HostKeyNotPinned,
    LoginRefused,
    NodeUnreachable,
    PromptNotSeen,
)
from securemode.console.expect import Expect, Pattern
from securemode.console.pins import HostKeyPins
from securemode.console.runner import run_sync
from securemode.redact import register_secret

ADMIN_USER = "admin"


@dataclass(frozen=True)
class ConsoleEndpoint:
    host: str
    port: int = 22
    username: str = ADMIN_USER

    def __str__(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


class ConsoleStatus(StrEnum):
    """Where a login lands."""

    PASSWORD_NOT_SET = "password-not-set"  # first login: the node asks for a new password
    NOT_INSTALLED = "not-installed"  # the installation wizard is waiting
    INSTALLED = "installed"  # a shell
    LOGIN_REFUSED = "login-refused"  # wrong password, or the account is disabled


@dataclass
class ConsoleObservation:
    status: ConsoleStatus
    transcript: list[str] = field(default_factory=list)


@dataclass
class SecurityReading:
    """The security wizard's current values (its bracketed defaults), read without answering the last row."""

    values: dict[str, Value]
    transcript: list[str] = field(default_factory=list)


@dataclass
class SecurityWizardRun:
    """What the wizard showed before (``before``), what we answered, and any row it never asked."""

    before: dict[str, Value]
    answers: dict[str, Value]
    unasked: list[str]
    transcript: list[str] = field(default_factory=list)


@dataclass
class WizardRun:
    transcript: list[str] = field(default_factory=list)


class ConsoleClient:
    """One node's console as the engine uses it; every public method opens and closes its own session."""

    def __init__(
        self,
        endpoint: ConsoleEndpoint,
        password: SecretStr,
        pins: HostKeyPins,
        *,
        prompt_timeout_s: float = 15.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.endpoint = endpoint
        self._password = password
        register_secret(password.get_secret_value())
        self.pins = pins
        self.prompt_timeout_s = prompt_timeout_s
        self.connect_timeout_s = connect_timeout_s

    def __repr__(self) -> str:
        return f"ConsoleClient({self.endpoint})"

    # public, synchronous ------------------------------------------------------------------------------
    def observe(self) -> ConsoleObservation:
        """Log in and see where we land, then leave (no answer is given, nothing changes)."""
        return run_sync(self._observe())

    def read_security_settings(self) -> SecurityReading:
        """Start `securitywizard`, note each row's current value, keep every value, leave before the end."""
        return run_sync(self._read_security())

    def run_install_wizard(self, answers: InstallAnswers) -> WizardRun:
        """Set the console password if the node asks for one, then answer the installation wizard."""
        return run_sync(self._install(answers))

    def run_security_wizard(self, answers: dict[str, Value]) -> SecurityWizardRun:
        """Run `securitywizard` with one answer per row of the guide's table. The node reboots after."""
        return run_sync(self._security(answers))

    # sessions -------------------------------------------------------------------------------------------
    @asynccontextmanager
    async def session(self, transcript: list[str]) -> AsyncIterator[Expect]:
        """A raw logged-in session to read and answer prompts yourself (pinned host key, as always)."""
        pinned = self.pins.get(self.endpoint.host, self.endpoint.port)
        if pinned is None:
            raise HostKeyNotPinned(f"no host key pinned for {self.endpoint.host}:{self.endpoint.port}; "
                                   "run the pin step (and approve it) first")
        known_hosts = asyncssh.import_known_hosts(pinned.known_hosts_line() + "\n")
        transcript.append(f"connect {self.endpoint} (host key {pinned.fingerprint})")
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(
                    self.endpoint.host,
                    self.endpoint.port,
                    username=self.endpoint.username,
                    password=self._password.get_secret_value(),
                    known_hosts=known_hosts,
                    client_keys=None,
                    agent_path=None,
                    preferred_auth="password",
                    kbdint_auth=False,
                    config=None,
                    login_timeout=self.connect_timeout_s,
                ),
                self.connect_timeout_s,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyMismatch(f"{self.endpoint.host}:{self.endpoint.port} presented a host key other than "
                                  f"the pinned {pinned.fingerprint}; refusing to log in") from None
        except asyncssh.PermissionDenied:
            transcript.append("login refused")
            raise LoginRefused(f"the node refused the login of {self.endpoint}") from None
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            raise NodeUnreachable(f"no console at {self.endpoint.host}:{self.endpoint.port}: "
                                  f"{type(exc).__name__}") from None
        try:
            process = await conn.create_process(term_type=None, encoding="utf-8")
            yield Expect(process, self.prompt_timeout_s, transcript)
        finally:
            conn.close()
            await conn.wait_closed()

    async def _landing(self, ex: Expect) -> ConsoleStatus:
        found, _, _ = await ex.expect(prompts.PASSWORD_MUST_BE_SET, prompts.ADMIN_PASSWORD, prompts.SHELL)
        if found is prompts.PASSWORD_MUST_BE_SET:
            return ConsoleStatus.PASSWORD_NOT_SET
        if found is prompts.ADMIN_PASSWORD:
            return ConsoleStatus.NOT_INSTALLED
        return ConsoleStatus.INSTALLED

    async def _observe(self) -> ConsoleObservation:
        transcript: list[str] = []
        try:
            async with self.session(transcript) as ex:
                return ConsoleObservation(await self._landing(ex), transcript)
        except LoginRefused:
            return ConsoleObservation(ConsoleStatus.LOGIN_REFUSED, transcript)

    async def _set_password(self, ex: Expect) -> None:
        secret = self._password.get_secret_value()
        await ex.expect(prompts.NEW_PASSWORD)
        ex.send(secret, secret=True)
        await ex.expect(prompts.RETYPE_PASSWORD)
        ex.send(secret, secret=True)

    async def _sudo(self, ex: Expect, already_seen: bool = False) -> None:
        """Answer the admin-password prompt the wizards start with."""
        if not already_seen:
            await ex.expect(prompts.ADMIN_PASSWORD)
        ex.send(self._password.get_secret_value(), secret=True)

    async def _shell(self, ex: Expect) -> None:
        status = await self._landing(ex)
        if status is ConsoleStatus.PASSWORD_NOT_SET:
            raise ConsoleError("the node asks for a new console password: it has not been installed by us yet")
        if status is ConsoleStatus.NOT_INSTALLED:
            raise ConsoleError("the installation wizard has not been completed on this node")

    # installation wizard ----------------------------------------------------------------------------------
    async def _install(self, answers: InstallAnswers) -> WizardRun:
        transcript: list[str] = []
        register_secret(answers.web_password.get_secret_value())
        async with self.session(transcript) as ex:
            status = await self._landing(ex)
            if status is ConsoleStatus.PASSWORD_NOT_SET:
                await self._set_password(ex)
                status = await self._landing(ex)
            if status is ConsoleStatus.INSTALLED:
                raise ConsoleError("the node is already installed (the console shows a shell)")
            await self._sudo(ex, already_seen=True)
            questions = dict(prompts.INSTALL_QUESTIONS)
            asked: set[str] = set()
            while True:
                found, _, before = await ex.expect(
                    *questions.values(), prompts.ADMIN_PASSWORD, prompts.REBOOT
                )
                if found is prompts.REBOOT:
                    break
                if found is prompts.ADMIN_PASSWORD:
                    raise LoginRefused("the installation wizard did not accept the console admin password")
                key = next(k for k, p in questions.items() if p is found)
                if key in asked:
                    raise AnswerRejected(found.name, before.strip()[-160:])
                asked.add(key)
                if key == "web_password":
                    asked.discard("web_password_again")
                text, secret = answers.answer(key)
                ex.send(text, secret=secret)
            await ex.until_closed()
        return WizardRun(transcript)

    # security wizard ------------------------------------------------------------------------------------
    async def _start_security_wizard(self, ex: Expect) -> None:
        await self._shell(ex)
        ex.send(prompts.SECURITY_WIZARD_COMMAND)
        await self._sudo(ex)

    async def _next_row(self, ex: Expect, seen: dict[str, Value]) -> tuple[WizardRow, Value] | None:
        """The next row the wizard asks (None once it announces the reboot)."""
        patterns: list[Pattern] = [row.pattern for row in ROWS]
        found, match, before = await ex.expect(*patterns, prompts.BAD_PASSWORD, prompts.REBOOT)
        if found is prompts.BAD_PASSWORD:
            raise LoginRefused("the security wizard did not accept the console admin password")
        if found is prompts.REBOOT:
            return None
        row = ROWS[patterns.index(found)]
        if row.key in seen:
            raise AnswerRejected(row.label, before.strip()[-160:])
        try:
            current = row.parse(match.group("current"))
        except ValueError as exc:
            raise ConsoleError(f"unexpected default for '{row.label}': {exc}") from None
        return row, current

    async def _read_security(self) -> SecurityReading:
        transcript: list[str] = []
        values: dict[str, Value] = {}
        async with self.session(transcript) as ex:
            await self._start_security_wizard(ex)
            while len(values) < len(ROWS):
                step = await self._next_row(ex, values)
                if step is None:
                    raise ConsoleError("the security wizard finished while it was only being read")
                row, current = step
                values[row.key] = current
                if len(values) < len(ROWS):
                    ex.send("")  # keep the current value
            transcript.append("left before the last answer: nothing saved, no reboot")
        return SecurityReading(values, transcript)

    async def _security(self, answers: dict[str, Value]) -> SecurityWizardRun:
        missing = [row.key for row in ROWS if row.key not in answers]
        if missing:
            raise ValueError(f"no answer for security-wizard rows: {', '.join(missing)}")
        transcript: list[str] = []
        before: dict[str, Value] = {}
        async with self.session(transcript) as ex:
            await self._start_security_wizard(ex)
            while (step := await self._next_row(ex, before)) is not None:
                row, current = step
                before[row.key] = current
                ex.send(row.render(answers[row.key]))
            try:
                await ex.until_closed()
            except PromptNotSeen:
                transcript.append("the node did not close the session after the wizard")
                raise
        unasked = [row.key for row in ROWS if row.key not in before]
        return SecurityWizardRun(before, dict(answers), unasked, transcript)
