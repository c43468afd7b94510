"""The auth verifiers against the twin and slapd: LDAP logins per role, role enforcement by behaviour, the
local admin (accepted under LDAP+LOCAL: FAIL), and with client certificates required: certificate logins,
no login page without one, a certificate for a user missing from LDAP refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securemode.console.access import web_target
from securemode.engine import EngineContext, EnsureStep, NoApprovals
from securemode.results import Status
from securemode.tasks.auth import ensure_client_certificates, ensure_ldap_connection, ensure_ldap_roles
from securemode.tasks.auth.client_certificates import credential
from securemode.verifiers import auth
from tests.stages_auth.lab import SECRETS, AuthLab


@pytest.fixture(scope="module")
def configured(auth_lab: AuthLab) -> AuthLab:
    ctx = EngineContext(site=auth_lab.lab.loaded, apply=True, gate=NoApprovals())
    for plan in (ensure_ldap_connection, ensure_ldap_roles, ensure_client_certificates):
        EnsureStep(plan.__name__, plan).run(ctx)
    assert ctx.skipped == []
    return auth_lab


def password_logins(lab: AuthLab) -> list[auth.Login]:
    loaded = lab.lab.loaded
    return [
        auth.Login(a.username, a.role.value, loaded.secret(a.password).get_secret_value())
        for a in loaded.site.administrators
        if a.password
    ]


def certificate_logins(lab: AuthLab) -> list[auth.Login]:
    loaded = lab.lab.loaded
    out = []
    for a in loaded.site.administrators:
        cred = credential(loaded, a.username)
        out.append(auth.Login(a.username, a.role.value, certificate=(str(cred.certificate), str(cred.key))))
    return out


def test_ldap_login_and_roles_by_password(configured: AuthLab) -> None:
    web = web_target(configured.lab.loaded)
    assert auth.check_logins("auth.ldap-login", "platform", web, password_logins(configured)).status is Status.PASS
    result = auth.check_role_enforcement("auth.role-enforcement", "platform", web, password_logins(configured))
    assert result.status is Status.PASS, result.message


def test_the_local_admin_is_accepted_under_ldap_and_local(configured: AuthLab) -> None:
    web = web_target(configured.lab.loaded)
    node = configured.lab.loaded.site.management_node
    result = auth.check_local_admin_refused(
        "auth.local-admin-refused", "platform", web, node.admin_username, SECRETS["SMT_ADMIN_PASSWORD"]
    )
    assert result.status is Status.FAIL
    assert SECRETS["SMT_ADMIN_PASSWORD"] not in result.model_dump_json()


def test_a_wrong_password_fails_naming_the_user(configured: AuthLab) -> None:
    web = web_target(configured.lab.loaded)
    wrong = [auth.Login(lg.username, lg.role, "not-the-password") for lg in password_logins(configured)[:1]]
    result = auth.check_logins("auth.ldap-login", "platform", web, wrong)
    assert result.status is Status.FAIL and wrong[0].username in result.message


@pytest.fixture
def certificates_required(configured: AuthLab) -> Iterator[AuthLab]:
    with configured.lab.side_api() as api:
        api.patch("/api/admin/configuration/v1/authentication/1/", {"client_certificate": "CN"})
    yield configured
    store = configured.lab.twin.state.store
    store.put("authentication", 1, {**(store.get("authentication", 1) or {}), "client_certificate": "NO"})


def test_with_certificates_required(certificates_required: AuthLab) -> None:
    lab = certificates_required
    web = web_target(lab.lab.loaded)
    logins = certificate_logins(lab)
    assert auth.check_logins("auth.ldap-login", "platform", web, logins).status is Status.PASS
    result = auth.check_role_enforcement("auth.role-enforcement", "platform", web, logins)
    assert result.status is Status.PASS, result.message
    assert auth.check_certificate_required("auth.certificate-required", "platform", web).status is Status.PASS
    stranger = lab.lab.ca.issue_client("nobody-in-ldap")
    result = auth.check_unknown_user_refused(
        "auth.unknown-user-certificate-refused",
        "platform",
        web,
        (str(stranger.fullchain_path), str(stranger.key_path)),
        "nobody-in-ldap",
    )
    assert result.status is Status.PASS, result.message
    member = lab.lab.ca.issue_client(lab.directory.users["admin"].uid)
    let_in = auth.check_unknown_user_refused(
        "auth.unknown-user-certificate-refused",
        "platform",
        web,
        (str(member.fullchain_path), str(member.key_path)),
        "lab-admin",
    )
    assert let_in.status is Status.FAIL


def test_a_user_in_no_mapped_group_gets_no_access(configured: AuthLab) -> None:
    web = web_target(configured.lab.loaded)
    user = configured.directory.ungrouped
    assert user is not None and user.group_dn == ""
    result = auth.check_logins("auth.ldap-login", "platform", web, [auth.Login(user.uid, "none", user.password)])
    assert result.status is Status.FAIL and f"{user.uid} (403)" in result.message
