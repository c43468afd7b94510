"""The earlier stages' web and API checks before and after the auth stage's cut-over: by the local admin's
password before it, by the engine's client certificate after it (the record ``management_api()`` uses);
the local admin's own web login is NOT_APPLICABLE once LDAP only has replaced it, and a refused API
request still leaves the audit event the syslog delivery check waits for."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from securemode.console.access import LOCAL_LOGIN_SUPERSEDED, local_web_login_superseded, web_admin
from securemode.flows import auth_proofs
from securemode.flows.stages.auth import SPEC
from securemode.flows.stages.platform import failed_login
from securemode.results import Status
from securemode.tasks.bootstrap import web_login_result
from securemode.verifiers import console, web
from tests.stage_steps import approving, run_steps
from tests.stages_auth.lab import AuthLab, start_auth_lab

GATES = approving([auth_proofs.REQUIRE_CERTIFICATES_GATE, auth_proofs.LDAP_ONLY_GATE])
GLOBAL = "/api/admin/configuration/v1/global/1/"
PER_USER = 2


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[AuthLab]:
    started = start_auth_lab(tmp_path_factory.mktemp("auth-lab"))
    state = started.lab.twin.state
    state.set_security_settings(
        state.security_settings().updated(max_web_sessions_per_user=PER_USER, validate_host_headers=True)
    )
    yield started
    started.stop()


def _web_checks_hold(lab: AuthLab) -> None:
    """The opt-out read-back, the per-user session limit and the conferencing nodes' read, by ``web_admin``."""
    loaded = lab.lab.loaded
    admin = web_admin(loaded)
    analytics = lab.lab.twin.state.global_settings()["enable_analytics"]
    field = web.api_field(
        "c", "mgr", admin.target, admin.username, admin.password, GLOBAL, "enable_analytics", analytics
    )
    assert field.status is Status.PASS, field.message
    limit = web.session_limit_per_user("c", "mgr", admin.target, admin.username, admin.password, PER_USER)
    assert limit.status is Status.PASS, limit.message
    host = web.host_header("c", "mgr", admin.target)
    assert host.status is Status.PASS, host.message
    known = web.registered_conferencing_nodes(admin.target, admin.username, admin.password)
    assert known == {n.name for n in loaded.site.conferencing_nodes}
    assert web_login_result(loaded)[0] is True  # bootstrap's web-login step: the engine gets in


def _audited(lab: AuthLab) -> bool:
    marker = f"probe-{secrets.token_hex(4)}"
    failed_login(lab.lab.loaded)(marker)
    return any(e["user"] == marker and e["action"] == "login_failed" for e in lab.lab.twin.state.audit_events())


def test_before_the_cut_over_the_local_admin_password_is_used(lab: AuthLab) -> None:
    loaded = lab.lab.loaded
    admin = web_admin(loaded)
    assert not admin.by_certificate and admin.password
    assert local_web_login_superseded(loaded) is None
    login = web.login("bootstrap.web-login", "mgr", admin.target, admin.username, admin.password)
    assert login.status is Status.PASS, login.message
    _web_checks_hold(lab)
    assert _audited(lab)


def test_after_the_cut_over_the_engine_certificate_is_used_and_the_local_login_is_superseded(lab: AuthLab) -> None:
    loaded = lab.lab.loaded
    done = run_steps(SPEC, loaded, apply=True, gate=GATES)
    assert [c.control for c in done.applied][-2:] == ["auth.client-certificate", "auth.source.ldap-only"]
    admin = web_admin(loaded)
    assert admin.by_certificate and admin.password is None
    assert local_web_login_superseded(loaded) == LOCAL_LOGIN_SUPERSEDED
    node = loaded.site.management_node
    login = web.login(
        "bootstrap.web-login",
        "mgr",
        admin.target,
        node.admin_username,
        admin.password,
        superseded=local_web_login_superseded(loaded),
    )
    assert (login.status, login.message) == (Status.NOT_APPLICABLE, LOCAL_LOGIN_SUPERSEDED)
    _web_checks_hold(lab)
    assert _audited(lab)  # refused for want of a certificate, and still an audit event
    (wizard_row,) = console.security_settings({"anon-dh": False}, "mgr", admin.target, admin.username, None)
    assert wizard_row.status is Status.MANUAL, wizard_row.message  # no role may take a snapshot (the guide)
    assert "may not generate a diagnostic snapshot" in wizard_row.message


def test_without_the_certificate_the_session_limit_check_is_not_passed_by_a_password(lab: AuthLab) -> None:
    """After the cut-over the local admin's password gets no session: a check made with it cannot PASS."""
    loaded = lab.lab.loaded
    bare = replace(web_admin(loaded).target, client_certificate=None)
    password = loaded.secret(loaded.site.management_node.admin_password).get_secret_value()
    result = web.session_limit_per_user("c", "mgr", bare, "admin", password, PER_USER)
    assert result.status is Status.ERROR, result.message
