"""securemode.verifiers.web against the HTTPS twin: each probe passes only when the behaviour is really there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.endpoint import Endpoint
from securemode.https import browser
from securemode.https.browser import WebTarget
from securemode.https.login import form_login, logout
from securemode.infra.twin import TwinManagementNode
from securemode.infra.twin.faults import unavailable
from securemode.infra.twin.state.settings import SecuritySettings
from securemode.results import Status
from securemode.site import Trust
from securemode.verifiers import web
from tests.stages_bootstrap.conftest import FAST

PASSWORD = "Web-Verifier-Secret-5"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[TwinManagementNode]:
    node = TwinManagementNode(
        tmp_path / "twin", "127.0.0.1", 0, config=FAST, admin_password=PASSWORD, hostname="mgr01", domain="example.test"
    ).start()
    yield node
    node.stop()


def target(node: TwinManagementNode, fingerprint: str | None = None) -> WebTarget:
    return WebTarget("127.0.0.1", Trust(fingerprint_sha256=fingerprint or node.fingerprint_sha256()), node.port)


def test_login(twin: TwinManagementNode) -> None:
    good = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD)
    assert good.status is Status.PASS, good.message
    assert (
        web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD, mode="basic").status is Status.PASS
    )
    bad = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", "wrong-password")
    assert bad.status is Status.FAIL and "Please enter the correct username and password" in bad.message
    assert twin.sessions.count() == 0  # the successful probe logged itself out
    assert PASSWORD not in good.model_dump_json()


def test_a_pin_mismatch_sends_nothing(twin: TwinManagementNode) -> None:
    before = len(twin.state.audit_events())
    result = web.login("bootstrap.web-login", "mgr01", target(twin, "00" * 32), "admin", PASSWORD)
    assert result.status is Status.ERROR and "pinned" in result.message
    assert len(twin.state.audit_events()) == before


def test_host_header_and_session_limit_follow_the_settings(twin: TwinManagementNode) -> None:
    tgt = target(twin)
    assert web.host_header("bootstrap.wizard.host-headers", "mgr01", tgt).status is Status.FAIL
    per_user = web.session_limit_per_user("bootstrap.wizard.web-sessions-per-user", "mgr01", tgt, "admin", PASSWORD, 3)
    assert per_user.status is Status.FAIL and twin.sessions.count() == 0
    assert web.fips_ciphers("bootstrap.wizard.fips", "mgr01", Endpoint("127.0.0.1", twin.port)).status is Status.FAIL

    twin.state.set_security_settings(
        SecuritySettings(validate_host_headers=True, max_web_sessions_per_user=3, fips_mode=True, enable_tls10=False)
    )
    header = web.host_header("bootstrap.wizard.host-headers", "mgr01", tgt)
    assert header.status is Status.PASS and header.observed == {"foreign_host_status": 400, "own_host_status": 200}
    per_user = web.session_limit_per_user("bootstrap.wizard.web-sessions-per-user", "mgr01", tgt, "admin", PASSWORD, 3)
    assert per_user.status is Status.PASS, per_user.message
    assert twin.sessions.count() == 0  # every probe session logged out again
    assert web.fips_ciphers("bootstrap.wizard.fips", "mgr01", Endpoint("127.0.0.1", twin.port)).status is Status.PASS
    # a limit higher than the node's: the probe sees the refusal early and cannot tell
    assert web.session_limit_per_user("x", "mgr01", tgt, "admin", PASSWORD, 5).status is Status.ERROR
    assert web.session_limit("x", "mgr01", tgt, [("admin", PASSWORD)], 100, 3).status is Status.MANUAL


def test_a_session_of_the_same_account_open_for_a_moment_is_waited_out(twin: TwinManagementNode,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Another probe's session of the same account holds a slot while the limit is filled: the probe logs out,
    tries again and judges the limit once the slot is free; a session that stays open leaves it ERROR."""
    twin.state.set_security_settings(SecuritySettings(max_web_sessions_per_user=3))
    monkeypatch.setattr(web, "FILL_RETRY_S", 0.3)
    other = form_login(target(twin), "admin", PASSWORD)
    assert other.ok
    closing = threading.Timer(0.45, logout, (other.browser,))  # after the first fill, before the third
    closing.start()
    per_user = web.session_limit_per_user("bootstrap.wizard.web-sessions-per-user", "mgr01", target(twin), "admin",
                                          PASSWORD, 3)
    closing.join()
    assert per_user.status is Status.PASS, per_user.message
    assert any("trying again" in line for line in per_user.transcript), per_user.transcript

    staying = form_login(target(twin), "admin", PASSWORD)
    try:
        held = web.session_limit_per_user("x", "mgr01", target(twin), "admin", PASSWORD, 3)
    finally:
        logout(staying.browser)
    assert held.status is Status.ERROR and f"in {web.FILL_ATTEMPTS} attempts" in held.message, held.message
    assert twin.sessions.count() == 0


def test_api_field(twin: TwinManagementNode) -> None:
    path = "/api/admin/configuration/v1/global/1/"
    tgt = target(twin)
    assert web.api_field("c", "mgr01", tgt, "admin", PASSWORD, path, "enable_analytics", False).status is Status.PASS
    assert web.api_field("c", "mgr01", tgt, "admin", PASSWORD, path, "enable_analytics", True).status is Status.FAIL
    assert web.api_field("c", "mgr01", tgt, "admin", "nope", path, "enable_analytics", False).status is Status.ERROR


def test_a_transient_503_is_retried_and_no_session_is_left_open(twin: TwinManagementNode) -> None:
    """The admin page answers 503 once right after the login created a session: the probe retries and
    passes, and logs out what it opened."""
    twin.faults.add(unavailable(path_regex=r"^/admin/$", methods=("GET",), remaining=1))
    result = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD)
    assert result.status is Status.PASS, result.message
    assert twin.sessions.count() == 0


def test_a_lasting_503_is_error_never_fail_and_the_session_is_closed(twin: TwinManagementNode,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A session was created, then the admin page keeps answering 503: ERROR (nothing was judged), and the
    session is logged out so the per-user limit is not used up for the next run."""
    # Every retry still happens, only without the real back-off's 3.7 s per request.
    monkeypatch.setattr(browser, "RETRY_BACKOFF_S", (0.01,) * len(browser.RETRY_BACKOFF_S))
    lasting = unavailable(path_regex=r"^/admin/$", methods=("GET",))
    rule = twin.faults.add(lasting)
    result = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD)
    assert result.status is Status.ERROR, result
    assert lasting.hits == len(browser.RETRY_BACKOFF_S) + 1  # the first try and every retry met the 503
    assert "503" in result.message
    assert twin.sessions.count() == 0
    twin.faults.remove(rule)
    twin.faults.add(unavailable(path_regex=r"^/admin/login/$", methods=("GET",)))
    page = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD)
    assert page.status is Status.ERROR and "login page answered 503" in page.message


def test_a_logout_outlasts_a_burst_of_503s(twin: TwinManagementNode, monkeypatch: pytest.MonkeyPatch) -> None:
    """The logout answers 503 more times than one request retries: the session is still closed (a session
    left behind holds one of the node's slots until it idles out)."""
    monkeypatch.setattr(browser, "RETRY_BACKOFF_S", (0.01,) * len(browser.RETRY_BACKOFF_S))
    burst = unavailable(path_regex=r"^/admin/logout/$", methods=("GET",), remaining=len(browser.RETRY_BACKOFF_S) + 2)
    twin.faults.add(burst)
    result = web.login("bootstrap.web-login", "mgr01", target(twin), "admin", PASSWORD)
    assert result.status is Status.PASS, result.message
    assert burst.hits == len(browser.RETRY_BACKOFF_S) + 2  # more than one request's tries: a second one was made
    assert twin.sessions.count() == 0
