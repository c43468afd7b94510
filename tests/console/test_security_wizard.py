"""`securitywizard` with the guide's answers: applied at the reboot, then no admin login, for good."""

from __future__ import annotations

import asyncio

import pytest

from securemode.console import prompts
from securemode.console.answers import ROWS
from securemode.console.client import ConsoleClient, ConsoleStatus
from securemode.console.login import LoginOutcome, attempt_login
from securemode.console.pins import HostKeyPins
from securemode.infra.console import ConsoleServer
from securemode.infra.twin.state.settings import SecuritySettings
from tests.console.conftest import CONSOLE_PASSWORD, GUIDE_ANSWERS, ServerFactory, client_for, installed

FRESH = {"fips": False, "disable-admin": False, "icmpv6-redirects": False, "drop-closed-ports": True,
         "icmpv6-multicast-echo": True, "ipv6-dad": True, "sip-udp-port": 5060, "sip-tcp-port": 5060,
         "sip-tls-port": 5061, "web-sessions": 0, "web-sessions-per-user": 0, "host-headers": False, "tls10": True,
         "anon-dh": True}
GUIDE_SETTINGS = SecuritySettings(
    fips_mode=True, disable_admin_account=True, accept_icmpv6_redirects=False, drop_closed_ports=True,
    accept_multicast_icmpv6_echo=False, ipv6_dad=False, sip_udp_port=5060, sip_tcp_port=5060, sip_tls_port=5061,
    max_web_sessions=100, max_web_sessions_per_user=10, validate_host_headers=True, enable_tls10=False,
    enable_anon_dh=False)


def test_prompts_show_the_guides_defaults(server: ConsoleServer, client: ConsoleClient) -> None:
    installed(server, client)
    reading = client.read_security_settings()
    assert reading.values == FRESH
    shown = [line for line in reading.transcript if line.startswith("< ") and line.endswith(":")]
    assert shown[0] == "< [sudo] password for admin:"
    assert shown[1:3] == ["< Enable FIPS 140-2 compliance mode (default = NO):",
                            "< Disable system administrator account (NO):"]
    assert [p.split(" (")[0][2:] for p in shown[1:]] == [row.label for row in ROWS]
    # reading left before the last answer: nothing pending, no reboot
    assert server.node.pending_security_settings() is None
    assert server.node.boots() == 2
    assert client.observe().status is ConsoleStatus.INSTALLED


def test_guide_answers_apply_at_reboot_and_lock_the_console(make_server: ServerFactory, tmp_path_factory:
                                                            pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("wizard") / "node"
    server = make_server(folder, reboot_delay_s=0.6)
    pins = HostKeyPins(folder.parent / "known_hosts")
    pins.pin("127.0.0.1", server.port, server.host_public_key())
    client = client_for(server, pins)
    installed(server, client)
    run = client.run_security_wizard(GUIDE_ANSWERS)
    assert run.before == FRESH and run.unasked == []
    # the session has closed; the settings wait for the node to come back
    assert server.node.security_settings() == SecuritySettings()
    assert server.node.pending_security_settings() == GUIDE_SETTINGS
    assert server.wait_until_up(30)
    assert server.node.security_settings() == GUIDE_SETTINGS
    assert server.node.pending_security_settings() is None
    assert client.observe().status is ConsoleStatus.LOGIN_REFUSED
    assert attempt_login("127.0.0.1", server.port, "admin", CONSOLE_PASSWORD, pins).outcome is LoginOutcome.REFUSED
    events = [e["action"] for e in server.state.audit_events()]
    assert "console_login_refused" in events
    # irreversible: a restart (a later boot) keeps the account disabled
    server.stop()
    again = make_server(folder)
    pins.pin("127.0.0.1", again.port, again.host_public_key())
    assert client_for(again, pins).observe().status is ConsoleStatus.LOGIN_REFUSED
    assert again.node.security_settings().disable_admin_account


def test_answering_no_to_disable_admin_keeps_the_console(server: ConsoleServer, client: ConsoleClient) -> None:
    installed(server, client)
    answers = {**GUIDE_ANSWERS, "disable-admin": False, "sip-tls-port": 5071}
    client.run_security_wizard(answers)
    assert server.wait_until_up(30)
    assert client.read_security_settings().values == answers  # the brackets now show the earlier answers
    assert server.node.security_settings().sip_tls_port == 5071


def test_securitywizard_needs_the_admin_password(server: ConsoleServer, client: ConsoleClient) -> None:
    installed(server, client)

    async def three_wrong_passwords() -> str:
        transcript: list[str] = []
        async with client.session(transcript) as ex:
            await ex.expect(prompts.SHELL)
            ex.send("securitywizard")
            for _ in range(3):
                await ex.expect(prompts.ADMIN_PASSWORD)
                ex.send("wrong-password", secret=True)
            _, _, before = await ex.expect(prompts.SHELL)
            return before

    said = asyncio.run(three_wrong_passwords())
    assert "Sorry, try again." in said and "3 incorrect password attempts" in said
    assert server.node.pending_security_settings() is None
    assert server.node.boots() == 2
