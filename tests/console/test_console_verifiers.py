"""securemode.verifiers.console against the console twin, before and after the security wizard."""

from __future__ import annotations

import socket

from securemode.console.client import ConsoleClient
from securemode.console.pins import HostKeyPins
from securemode.endpoint import Endpoint
from securemode.infra.console import ConsoleServer
from securemode.pexip.snapshot import SECURITY_JSON_KEYS, json_value
from securemode.results import Status
from securemode.verifiers.console import admin_login_refused, admin_password_required
from tests.console.conftest import CONSOLE_PASSWORD, GUIDE_ANSWERS, installed

HTTPS = Endpoint("127.0.0.1", 443)  # where a node's HTTPS service would show it alive


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_before_and_after_the_wizard(server: ConsoleServer, client: ConsoleClient, pins: HostKeyPins) -> None:
    installed(server, client)
    port = server.port
    before = admin_login_refused("bootstrap.wizard.disable-admin", "mgr01", Endpoint("127.0.0.1", port),
                                 CONSOLE_PASSWORD, pins, alive=None)
    assert before.status is Status.FAIL
    password_ok = admin_password_required("bootstrap.install.admin-password", "mgr01", Endpoint("127.0.0.1", port),
                                          CONSOLE_PASSWORD, pins, account_disabled=False, alive=HTTPS)
    assert password_ok.status is Status.PASS, password_ok.message
    wrong = admin_password_required("bootstrap.install.admin-password", "mgr01", Endpoint("127.0.0.1", port),
                                    "some-other-password", pins, account_disabled=False, alive=HTTPS)
    assert wrong.status is Status.FAIL
    client.run_security_wizard(GUIDE_ANSWERS)
    assert server.wait_until_up(30)
    after = admin_login_refused("bootstrap.wizard.disable-admin", "mgr01", Endpoint("127.0.0.1", port),
                                CONSOLE_PASSWORD, pins, alive=None)
    assert after.status is Status.PASS and after.observed == {"outcome": "refused", "detail": "permission denied"}
    still = admin_password_required("bootstrap.install.admin-password", "mgr01", Endpoint("127.0.0.1", port),
                                    CONSOLE_PASSWORD, pins, account_disabled=True, alive=HTTPS)
    assert still.status is Status.PASS
    for result in (before, password_ok, after, still):
        assert CONSOLE_PASSWORD not in result.model_dump_json()


def test_password_less_console_fails_the_password_control(server: ConsoleServer, pins: HostKeyPins) -> None:
    fresh = admin_password_required("bootstrap.install.admin-password", "mgr01", Endpoint("127.0.0.1", server.port),
                                    CONSOLE_PASSWORD, pins, account_disabled=False, alive=HTTPS)
    assert fresh.status is Status.FAIL  # no password set yet: admin gets in with none


def test_unpinned_or_absent_console(server: ConsoleServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    unpinned = admin_login_refused("bootstrap.wizard.disable-admin", "mgr01", Endpoint("127.0.0.1", server.port),
                                   CONSOLE_PASSWORD, HostKeyPins(tmp_path / "none"), alive=HTTPS)
    assert unpinned.status is Status.ERROR
    port = _free_port()
    pins = HostKeyPins(tmp_path / "kh")
    pins.pin("127.0.0.1", port, server.host_public_key())
    closed = admin_login_refused("bootstrap.wizard.disable-admin", "mgr01", Endpoint("127.0.0.1", port),
                                 CONSOLE_PASSWORD, pins, alive=HTTPS)
    # No SSH, and no HTTPS service answers on 127.0.0.1:443 either: the node is not shown up, so ERROR.
    assert closed.status is Status.ERROR
    assert isinstance(closed.observed, dict) and closed.observed["outcome"] == "port-closed"


def test_security_json_values_map_to_the_guides_rows() -> None:
    snapshot = {"fips_mode": True, "disable_admin_account": True, "icmpv6_redirects": False, "drop_not_reject": True,
                "icmpv6_echo_requests": False, "ipv6_dad_transmits": False, "sip_udp_port": 5060,
                "sip_tcp_port": 5060, "sip_tls_port": 5061, "web_global_session_limit": 100,
                "web_per_user_session_limit": None, "enable_web_allowed_hosts_validation": True,
                "enable_tls1": False, "enable_sip_tls_adh": False}
    values = {key: json_value(key, snapshot) for key in SECURITY_JSON_KEYS}
    assert values == {**GUIDE_ANSWERS, "web-sessions-per-user": 0}
