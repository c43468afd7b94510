"""Administrator web surface: banner, login with CSRF, idle timeout, session limits, host headers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from securemode.infra.twin import TwinConfig, TwinManagementNode
from tests.lab_infra.twin.conftest import ADMIN, FAST, NodeFactory
from tests.lab_infra.twin.helpers import Api
from tests.lab_infra.twin.webclient import Browser
from tests.polling import wait_until

MINUTE_S = 0.1  # the node's session_minute_seconds: how long one "minute" of the idle timeout lasts
IDLE_TIMEOUT_S = 5 * MINUTE_S  # the least management_session_timeout, 5 "minutes"


@pytest.fixture
def node(make_twin: NodeFactory) -> TwinManagementNode:
    return make_twin(config=TwinConfig(**{**FAST.__dict__, "session_minute_seconds": MINUTE_S}))


@pytest.fixture
def pin(node: TwinManagementNode, tmp_path: Path) -> Path:
    return node.write_certificate(tmp_path / "pin.pem")


def test_login_page_shows_the_logon_banner_escaped(node: TwinManagementNode, pin: Path) -> None:
    Api(node.base_url, pin, ADMIN).patch("global/1/", {"logon_banner": "<b>Authorised use only</b>"})
    page = Browser(node.base_url, pin).get("/admin/login/")
    assert page.status_code == 200
    assert "&lt;b&gt;Authorised use only&lt;/b&gt;" in page.text
    assert "csrftoken=" in page.headers["Set-Cookie"]


def test_form_login_needs_csrf_and_right_password(node: TwinManagementNode, pin: Path) -> None:
    browser = Browser(node.base_url, pin)
    assert browser.get("/admin/").headers["Location"] == "/admin/login/?next=/admin/"
    bad = browser.login("admin", "nope")
    assert bad.status_code == 200 and "correct username and password" in bad.text
    forged = Browser(node.base_url, pin).session.post(
        node.base_url + "/admin/login/", data={"username": ADMIN[0], "password": ADMIN[1]}
    )
    assert forged.status_code == 403
    good = browser.login(*ADMIN)
    assert good.status_code == 302 and good.headers["Location"] == "/admin/"
    assert "Secure" in good.headers["Set-Cookie"] and "HttpOnly" in good.headers["Set-Cookie"]
    home = browser.get("/admin/")
    assert home.status_code == 200 and "Logged in as admin" in home.text
    assert browser.get("/admin/logs/").status_code == 200  # the local admin has every permission
    browser.get("/admin/logout/")
    assert browser.get("/admin/").status_code == 302


class Timed:
    """A logged-in browser that remembers when its last request was sent and answered: the server saw that
    request somewhere in between, so the idle time it measured before the next one lies within known bounds."""

    def __init__(self, node: TwinManagementNode, pin: Path) -> None:
        self.browser = Browser(node.base_url, pin)
        self.sent = time.monotonic()
        assert self.browser.login(*ADMIN).status_code == 302
        self.received = time.monotonic()

    def get(self, path: str) -> tuple[requests.Response, float, float]:
        """GET ``path``, and the least and the most idle time the server can have seen before it."""
        sent = time.monotonic()
        response = self.browser.get(path)
        received = time.monotonic()
        least, most = sent - self.received, received - self.sent
        self.sent, self.received = sent, received
        return response, least, most


def test_sessions_expire_after_idle_timeout(node: TwinManagementNode, pin: Path) -> None:
    Api(node.base_url, pin, ADMIN).patch("global/1/", {"management_session_timeout": 5})

    def kept_alive_three_times() -> bool:
        """Requests well inside the idle timeout keep the session; a gap a stalled machine stretched past the
        timeout proves nothing either way, so that attempt starts again with a new session."""
        browser = Timed(node, pin)
        for _ in range(3):
            time.sleep(IDLE_TIMEOUT_S / 4)  # pacing the activity, not waiting for something to happen
            response, _, most = browser.get("/admin/")
            if most >= IDLE_TIMEOUT_S:
                return False
            assert response.status_code == 200, f"expired after at most {most:.2f} s idle ({IDLE_TIMEOUT_S} s)"
        return True

    wait_until(kept_alive_three_times, timeout=30, interval=0, what="three requests inside the idle timeout")

    browser = Timed(node, pin)
    time.sleep(1.5 * IDLE_TIMEOUT_S)  # idle on purpose; the bound below is measured, not assumed
    response, least, _ = browser.get("/admin/")
    assert least > IDLE_TIMEOUT_S
    assert response.status_code == 302, f"still alive after at least {least:.2f} s idle"
    assert response.headers["Location"].startswith("/admin/login/")


def test_global_and_per_user_session_limits(node: TwinManagementNode, pin: Path) -> None:
    node.state.set_security_settings(node.state.security_settings().updated(max_web_sessions_per_user=2))
    browsers = [Browser(node.base_url, pin) for _ in range(3)]
    assert [b.login(*ADMIN).status_code for b in browsers] == [302, 302, 200]
    assert "maximum number of active management web sessions" in browsers[2].login(*ADMIN).text
    browsers[0].get("/admin/logout/")
    assert browsers[2].login(*ADMIN).status_code == 302
    node.state.set_security_settings(
        node.state.security_settings().updated(max_web_sessions=3, max_web_sessions_per_user=0)
    )
    assert Browser(node.base_url, pin).login(*ADMIN).status_code == 302  # third session overall
    assert Browser(node.base_url, pin).login(*ADMIN).status_code == 200  # fourth refused


def test_host_header_validation(node: TwinManagementNode, pin: Path) -> None:
    api = Api(node.base_url, pin, ADMIN)
    assert api.get("global/1/", headers={"Host": "evil.example"}).status_code == 200
    node.state.set_security_settings(node.state.security_settings().updated(validate_host_headers=True))
    assert api.get("global/1/", headers={"Host": "evil.example"}).status_code == 400
    assert Browser(node.base_url, pin).get("/admin/login/", headers={"Host": "evil.example"}).status_code == 400
    assert api.get("global/1/", headers={"Host": "mgr.example.test"}).status_code == 200
    assert api.get("global/1/").status_code == 200  # the node's own address
