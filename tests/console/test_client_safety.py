"""The client fails closed on host keys and names the prompt it waited for."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from securemode.console import prompts
from securemode.console.client import ConsoleClient
from securemode.console.errors import HostKeyMismatch, HostKeyNotPinned, PromptNotSeen
from securemode.console.expect import Expect, Pattern
from securemode.console.login import LoginOutcome, attempt_login
from securemode.console.pins import HostKeyPins, fetch_host_key
from securemode.infra.console import ConsoleServer
from tests.console.conftest import client_for


def test_no_pin_no_connection(server: ConsoleServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = HostKeyPins(tmp_path / "empty")
    with pytest.raises(HostKeyNotPinned):
        client_for(server, empty).observe()
    assert attempt_login("127.0.0.1", server.port, "admin", "x", empty).outcome is LoginOutcome.UNVERIFIED
    assert not server.node.password_set()


def test_a_different_key_is_refused(server: ConsoleServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    pins = HostKeyPins(tmp_path / "wrong")
    pins.pin("127.0.0.1", server.port, other)
    with pytest.raises(HostKeyMismatch, match="pinned"):
        client_for(server, pins).observe()
    assert attempt_login("127.0.0.1", server.port, "admin", None, pins).outcome is LoginOutcome.UNVERIFIED


def test_pin_records_exactly_the_served_key(server: ConsoleServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fetched = fetch_host_key("127.0.0.1", server.port)
    assert fetched.fingerprint == server.host_key_fingerprint()
    pins = HostKeyPins(tmp_path / "kh")
    pins.pin("127.0.0.1", server.port, fetched.public_key)
    assert pins.get("127.0.0.1", server.port) == fetched
    assert pins.get("127.0.0.1", server.port + 1) is None
    assert pins.path.read_text().startswith(f"[127.0.0.1]:{server.port} ssh-ed25519 ")


def test_a_missing_prompt_is_named(server: ConsoleServer, client: ConsoleClient) -> None:
    async def wait_for_something_else() -> PromptNotSeen:
        transcript: list[str] = []
        async with client.session(transcript) as ex:
            assert isinstance(ex, Expect)
            try:
                await ex.expect(prompts.SHELL, Pattern("'Frobnicate:'", r"Frobnicate:"), timeout_s=0.5)
            except PromptNotSeen as exc:
                return exc
        raise AssertionError("no PromptNotSeen")

    missed = asyncio.run(wait_for_something_else())
    assert "the shell prompt or 'Frobnicate:'" in str(missed)
    assert "New password" in missed.tail  # what the node did print instead
