"""Login against a real slapd: local, LDAP (LDAPS and StartTLS), role enforcement, client certificates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securemode.infra.twin import TwinManagementNode
from tests.lab_infra.twin import slapd
from tests.lab_infra.twin.certs import ScratchCA
from tests.lab_infra.twin.conftest import ADMIN, FAST, NodeFactory
from tests.lab_infra.twin.helpers import COMMAND, Api
from tests.lab_infra.twin.webclient import Browser

pytestmark = [
    pytest.mark.skipif(not slapd.available(), reason="slapd is not installed"),
    pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning"),
]
AUDITOR_PERMS = (
    "Is an administrator",
    "May use web interface",
    "May use API",
    "May view logs",
    "May generate system snapshot",
)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory, ca: ScratchCA) -> Iterator[slapd.Slapd]:
    server = slapd.start(tmp_path_factory.mktemp("slapd"), ca)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, directory: slapd.Slapd, ca: ScratchCA
) -> Iterator[TwinManagementNode]:
    twin = TwinManagementNode(
        tmp_path_factory.mktemp("ldap-twin"),
        config=FAST,
        admin_password=ADMIN[1],
        ldap_ca_file=str(directory.ca_file),
        ldap_tls_mode="ldaps",
    ).start()
    api = Api(twin.base_url, twin.write_certificate(tmp_path_factory.mktemp("pin") / "pin.pem"), ADMIN)
    perms = {p["name"]: p["resource_uri"] for p in api.objects("permission")}
    roles = {r["name"]: r["resource_uri"] for r in api.objects("role")}
    roles["Auditor"] = api.create("role", {"name": "Auditor", "permissions": [perms[p] for p in AUDITOR_PERMS]})
    for group, role in (("pexip-admins", "Read-write"), ("pexip-readonly", "Read-only"), ("pexip-auditors", "Auditor")):
        api.create("ldap_role", {"name": group, "ldap_group_dn": directory.group_dn(group), "roles": [roles[role]]})
    api.create("ca_certificate", {"certificate": ca.pem})
    resp = api.patch(
        "authentication/1/",
        {
            "source": "LDAP+LOCAL",
            "ldap_server": f"127.0.0.1:{directory.tls_port}",
            "ldap_base_dn": slapd.BASE,
            "ldap_bind_username": slapd.BIND_DN,
            "ldap_bind_password": slapd.BIND_PW,
            # OpenLDAP has no "computer" class, so Pexip's default (!(objectclass=computer)) matches nobody there
            "ldap_user_filter": "(objectclass=person)",
        },
    )
    assert resp.status_code == 202, resp.text
    assert "B1nd-Ldap-Pw" not in api.get("authentication/1/").text
    yield twin
    twin.stop()


@pytest.fixture
def pin(node: TwinManagementNode, tmp_path: Path) -> Path:
    return node.write_certificate(tmp_path / "pin.pem")


def configure(node: TwinManagementNode, **fields: Any) -> Iterator[None]:
    """Set authentication fields for one test (setup through the store, not the API under test)."""
    before = node.state.store.get("authentication", 1)
    assert before is not None
    node.state.store.put("authentication", 1, {**before, **fields})
    yield
    node.state.store.put("authentication", 1, before)


def user(uid: str) -> tuple[str, str]:
    return uid, slapd.USERS[uid][0]


def test_local_and_ldap_accounts_with_ldap_plus_local(node: TwinManagementNode, pin: Path) -> None:
    assert Api(node.base_url, pin, ADMIN).get("global/1/").status_code == 200
    alice = Api(node.base_url, pin, user("alice"))
    assert alice.get("global/1/").status_code == 200
    assert alice.patch("global/1/", {"enable_chat": False}).status_code == 202
    assert Api(node.base_url, pin, ("alice", "wrong")).get("global/1/").status_code == 401
    assert Api(node.base_url, pin, ("ghost", "x")).get("global/1/").status_code == 401
    assert Browser(node.base_url, pin).login(*user("alice")).status_code == 302


def test_read_only_ldap_user_cannot_change_configuration(node: TwinManagementNode, pin: Path) -> None:
    rita = Api(node.base_url, pin, user("rita"))
    assert rita.get("global/1/").status_code == 200
    assert rita.patch("global/1/", {"enable_chat": True}).status_code == 403
    assert rita.post("dns_server/", {"address": "192.0.2.1"}).status_code == 403
    assert rita.delete("dns_server/").status_code == 403


def test_auditor_may_view_logs_and_take_snapshots_only(node: TwinManagementNode, pin: Path) -> None:
    audrey = Api(node.base_url, pin, user("audrey"))
    assert audrey.get("global/1/").status_code == 403
    snap = audrey.post(COMMAND + "snapshot/", {})
    assert snap.status_code == 200 and snap.content[:2] == b"\x1f\x8b"
    browser = Browser(node.base_url, pin)
    assert browser.login(*user("audrey")).status_code == 302
    logs = browser.get("/admin/logs/")
    assert logs.status_code == 200 and "login" in logs.text
    assert browser.get("/admin/settings/").status_code == 403


def test_user_without_a_mapped_role_is_refused(node: TwinManagementNode, pin: Path) -> None:
    assert Api(node.base_url, pin, user("nobody")).get("global/1/").status_code == 403
    assert Browser(node.base_url, pin).login(*user("nobody")).status_code == 200  # form again, no session


def test_ldap_alone_refuses_local_accounts(node: TwinManagementNode, pin: Path) -> None:
    for _ in configure(node, source="LDAP"):
        assert Api(node.base_url, pin, ADMIN).get("global/1/").status_code == 401
        assert Browser(node.base_url, pin).login(*ADMIN).status_code == 200
        assert Api(node.base_url, pin, user("alice")).get("global/1/").status_code == 200


def test_starttls_on_the_plain_port(
    node: TwinManagementNode, pin: Path, directory: slapd.Slapd, make_twin: NodeFactory
) -> None:
    other = make_twin(ldap_ca_file=str(directory.ca_file))  # tls_mode auto: StartTLS on a non-636 port
    auth = node.state.authentication()
    other.state.store.put("authentication", 1, {**auth, "ldap_server": f"127.0.0.1:{directory.port}"})
    rw = next(r for r in other.state.store.all("role") if r["name"] == "Read-write")
    other.state.store.insert(
        "ldap_role", {"name": "a", "ldap_group_dn": directory.group_dn("pexip-admins"), "roles": [rw["id"]]}
    )
    other_pin = other.write_certificate(pin.parent / "other.pem")
    assert Api(other.base_url, other_pin, user("alice")).get("global/1/").status_code == 200


def _cert_files(tmp: Path, ca: ScratchCA, cn: str, upn: str | None = None) -> tuple[str, str]:
    cert, key = ca.client(cn, upn)
    (tmp / f"{cn}.crt").write_text(cert)
    (tmp / f"{cn}.key").write_text(key)
    return str(tmp / f"{cn}.crt"), str(tmp / f"{cn}.key")


def test_client_certificate_cn_login(node: TwinManagementNode, pin: Path, ca: ScratchCA, tmp_path: Path) -> None:
    for _ in configure(node, client_certificate="CN"):
        alice = Api(node.base_url, pin, cert=_cert_files(tmp_path, ca, "alice"))
        assert alice.get("global/1/").status_code == 200
        assert alice.patch("global/1/", {"enable_chat": False}).status_code == 202
        rita = Api(node.base_url, pin, cert=_cert_files(tmp_path, ca, "rita"))
        assert rita.patch("global/1/", {"enable_chat": True}).status_code == 403
        assert Api(node.base_url, pin, cert=_cert_files(tmp_path, ca, "mallory")).get("global/1/").status_code == 403
        assert Api(node.base_url, pin, ADMIN).get("global/1/").status_code == 403  # no certificate, Basic ignored
        refused = node.state.audit_events()[-1]  # and still audited, under the name it offered
        assert (refused["user"], refused["action"]) == (ADMIN[0], "login_failed")
        # the login page is no longer offered
        anonymous = Browser(node.base_url, pin)
        page = anonymous.get("/admin/login/")
        assert page.status_code == 403 and "password" not in page.text
        browser = Browser(node.base_url, pin, cert=_cert_files(tmp_path, ca, "alice"))
        assert browser.get("/admin/login/").headers["Location"] == "/admin/"
        assert "Logged in as alice" in browser.get("/admin/").text


def test_client_certificate_upn_login(node: TwinManagementNode, pin: Path, ca: ScratchCA, tmp_path: Path) -> None:
    for _ in configure(node, client_certificate="UPN", ldap_user_search_filter="(|(uid={username})(mail={username}))"):
        upn = Api(node.base_url, pin, cert=_cert_files(tmp_path, ca, "Alice Smith", upn="alice@example.test"))
        assert upn.get("global/1/").status_code == 200
        no_upn = Api(node.base_url, pin, cert=_cert_files(tmp_path, ca, "alice"))  # CN only: no identity in UPN mode
        assert no_upn.get("global/1/").status_code == 403
