"""The first login and the installation wizard, driven by the engine's client against the console twin."""

from __future__ import annotations

import pytest

from securemode.console.client import ConsoleClient, ConsoleStatus
from securemode.console.errors import AnswerRejected, LoginRefused
from securemode.console.login import LoginOutcome, attempt_login
from securemode.console.pins import HostKeyPins
from securemode.infra.console import ConsoleServer
from securemode.infra.console.node import ConsoleNode
from tests.console.conftest import (
    CONSOLE_PASSWORD,
    WEB_PASSWORD,
    ServerFactory,
    client_for,
    install_answers,
    installed,
)


def test_fresh_node_asks_for_a_password_and_observing_changes_nothing(server: ConsoleServer,
                                                                       client: ConsoleClient) -> None:
    assert client.observe().status is ConsoleStatus.PASSWORD_NOT_SET
    assert client.observe().status is ConsoleStatus.PASSWORD_NOT_SET
    assert not server.node.password_set()
    assert not server.node.installed()


def test_install_wizard_saves_answers_and_reboots(server: ConsoleServer, client: ConsoleClient) -> None:
    run = client.run_install_wizard(install_answers())
    assert any("will now reboot" in line for line in run.transcript)
    assert server.wait_until_up(30)
    answers = server.state.install_wizard()
    assert (answers.hostname, answers.domain, answers.address) == ("mgr01", "example.test", "127.0.0.1")
    assert answers.dns_servers == ("127.0.0.53", "127.0.0.54")
    assert answers.ntp_servers == ("127.0.0.123", "ntp2.example.test")
    assert answers.web_admin_username == "admin"
    assert (answers.incident_reporting, answers.send_statistics) == (False, False)
    glob = server.state.global_settings()
    assert (glob["error_reporting_enabled"], glob["enable_analytics"]) == (False, False)
    assert server.node.boots() == 2  # start, then the wizard's reboot
    assert client.observe().status is ConsoleStatus.INSTALLED


def test_passwords_never_reach_a_transcript(server: ConsoleServer, client: ConsoleClient) -> None:
    run = client.run_install_wizard(install_answers())
    text = "\n".join(run.transcript)
    assert CONSOLE_PASSWORD not in text and WEB_PASSWORD not in text
    assert text.count("> ***") == 5  # new password twice, sudo, web password twice
    assert CONSOLE_PASSWORD not in repr(client) and WEB_PASSWORD not in repr(install_answers())


def test_console_password_is_required_after_first_login(server: ConsoleServer, client: ConsoleClient,
                                                        pins: HostKeyPins) -> None:
    installed(server, client)
    bare = attempt_login("127.0.0.1", server.port, "admin", None, pins)
    wrong = attempt_login("127.0.0.1", server.port, "admin", "not-the-password", pins)
    other_user = attempt_login("127.0.0.1", server.port, "root", CONSOLE_PASSWORD, pins)
    assert (bare.outcome, wrong.outcome, other_user.outcome) == (LoginOutcome.REFUSED,) * 3
    assert client_for(server, pins, "not-the-password").observe().status is ConsoleStatus.LOGIN_REFUSED
    with pytest.raises(LoginRefused):
        client_for(server, pins, "not-the-password").run_install_wizard(install_answers())


def test_a_rejected_answer_names_the_question(server: ConsoleServer, client: ConsoleClient) -> None:
    with pytest.raises(AnswerRejected) as caught:
        client.run_install_wizard(install_answers(gateway="300.1.1.1"))
    assert "Gateway" in str(caught.value) and "Invalid IPv4 address" in str(caught.value)
    assert not server.node.installed() and not server.node.install_pending()
    # the password set on that first login stays; the wizard can be run again
    assert client.observe().status is ConsoleStatus.NOT_INSTALLED


def test_state_survives_a_restart(make_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("restart") / "node"
    first = make_server(folder)
    pins = HostKeyPins(folder.parent / "known_hosts")
    pins.pin("127.0.0.1", first.port, first.host_public_key())
    installed(first, client_for(first, pins))
    key = first.host_public_key()
    first.stop()
    second = make_server(folder)
    assert second.host_public_key() == key
    pins.pin("127.0.0.1", second.port, key)  # new port, same key
    assert client_for(second, pins).observe().status is ConsoleStatus.INSTALLED
    assert ConsoleNode(second.state).password_set()
