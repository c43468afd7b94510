"""securemode.verifiers.ldap against the real lab slapd: verified-TLS binds, group checks, the cleartext-bind
finding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.pki.ca import LabCA
from securemode.infra.services import slapd
from securemode.results import Result, Status
from securemode.verifiers.ldap import check_ldap_groups, check_ldap_plain_bind_refused, check_ldap_service_bind

CONTROL = "auth.ldap.bind"


def _bind(
    h: slapd.SlapdHandle,
    mode: str,
    *,
    host: str | None = None,
    ca_file: Path | None = None,
    password: str | None = None,
) -> Result:
    address, port = h.endpoints["ldaps" if mode == "ldaps" else "ldap"]
    return check_ldap_service_bind(
        CONTROL,
        "ldap",
        Endpoint(host or address, port, ca_file=str(ca_file or h.ca_file)),
        mode=mode,  # type: ignore[arg-type]
        bind_dn=h.bind_dn,
        bind_password=h.bind_password if password is None else password,
    )


@pytest.mark.parametrize("mode", ["ldaps", "starttls"])
def test_service_bind_passes(ldap_server: slapd.SlapdHandle, mode: str) -> None:
    r = _bind(ldap_server, mode)
    assert r.status is Status.PASS, r.message
    assert isinstance(r.observed, dict)
    assert r.observed["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert r.observed["whoami"] == f"dn:{ldap_server.bind_dn}"
    assert ldap_server.bind_password not in r.model_dump_json()


@pytest.mark.parametrize("mode", ["ldaps", "starttls"])
def test_untrusted_ca_fails_closed(ldap_server: slapd.SlapdHandle, rogue_ca: LabCA, mode: str) -> None:
    r = _bind(ldap_server, mode, ca_file=rogue_ca.root_path)
    assert r.status is Status.FAIL
    assert "CERTIFICATE_VERIFY_FAILED" in r.message
    assert isinstance(r.observed, dict) and r.observed["stage"] in ("connect+tls", "tls")


@pytest.mark.parametrize("mode", ["ldaps", "starttls"])
def test_name_mismatch_fails_closed(ldap_server: slapd.SlapdHandle, mode: str) -> None:
    r = _bind(ldap_server, mode, host="localhost")  # the certificate names 127.0.0.1 and ldap.<realm>
    assert r.status is Status.FAIL
    assert "doesn't match" in r.message


def test_wrong_password_fails_and_is_never_shown(ldap_server: slapd.SlapdHandle) -> None:
    r = _bind(ldap_server, "ldaps", password="Wrong-Password-42")
    assert r.status is Status.FAIL
    assert "invalidCredentials" in r.message
    assert "Wrong-Password-42" not in r.model_dump_json()


def test_missing_ca_file_is_error(ldap_server: slapd.SlapdHandle, tmp_path: Path) -> None:
    r = _bind(ldap_server, "ldaps", ca_file=tmp_path / "absent.pem")
    assert r.status is Status.ERROR
    assert "fail closed" in r.message


def _groups(h: slapd.SlapdHandle, group_dns: list[str], password: str | None = None) -> Result:
    host, port = h.endpoints["ldaps"]
    return check_ldap_groups(
        "auth.ldap.groups",
        "ldap",
        Endpoint(host, port, ca_file=str(h.ca_file)),
        mode="ldaps",
        bind_dn=h.bind_dn,
        bind_password=h.bind_password if password is None else password,
        group_dns=group_dns,
    )


def test_mapped_groups_pass(ldap_server: slapd.SlapdHandle) -> None:
    r = _groups(ldap_server, list(ldap_server.groups.values()))
    assert r.status is Status.PASS, r.message
    assert isinstance(r.observed, dict)
    for dn in ldap_server.groups.values():
        assert r.observed[dn] == {"exists": True, "members": 1, "members_without_memberOf": []}


def test_missing_group_fails(ldap_server: slapd.SlapdHandle) -> None:
    absent = f"cn=pexip-nobody,ou=groups,{ldap_server.base_dn}"
    r = _groups(ldap_server, [ldap_server.groups["admin"], absent])
    assert r.status is Status.FAIL
    assert r.message == f"{absent} does not exist"


@pytest.fixture
def dangling_group(ldap_server: slapd.SlapdHandle) -> Iterator[str]:
    """A group whose only member has no entry (so no memberOf): what a stale directory looks like."""
    dn = f"cn=pexip-stale,ou=groups,{ldap_server.base_dn}"
    ghost = f"uid=departed,ou=people,{ldap_server.base_dn}"
    with ldap_server.admin_connection() as conn:
        assert conn.add(dn, ["top", "groupOfNames"], {"cn": "pexip-stale", "member": [ghost]}), conn.result
    yield dn
    with ldap_server.admin_connection() as conn:
        conn.delete(dn)


def test_member_without_member_of_fails(ldap_server: slapd.SlapdHandle, dangling_group: str) -> None:
    r = _groups(ldap_server, [dangling_group])
    assert r.status is Status.FAIL
    assert "memberOf missing on uid=departed" in r.message


def test_groups_with_failing_bind_is_error(ldap_server: slapd.SlapdHandle) -> None:
    r = _groups(ldap_server, list(ldap_server.groups.values()), password="not-it-at-all")
    assert r.status is Status.ERROR
    assert "could not check groups" in r.message


def test_plain_bind_refused_by_the_strict_server(ldap_server: slapd.SlapdHandle) -> None:
    host, port = ldap_server.endpoints["ldap"]
    r = check_ldap_plain_bind_refused("auth.ldap.tls", "ldap", Endpoint(host, port), bind_dn=ldap_server.bind_dn)
    assert r.status is Status.PASS
    assert r.observed == {"result": 13, "description": "confidentialityRequired"}


def test_plain_bind_accepted_is_a_finding_and_stopped_server_fails(tmp_path: Path, lab_ca: LabCA) -> None:
    weak = slapd.start(tmp_path / "weak", lab_ca, "127.0.0.11", plain_bind_allowed=True)
    try:
        host, port = weak.endpoints["ldap"]
        r = check_ldap_plain_bind_refused("auth.ldap.tls", "ldap", Endpoint(host, port), bind_dn=weak.bind_dn)
        assert r.status is Status.FAIL
        assert r.observed == {"result": 49, "description": "invalidCredentials"}
    finally:
        weak.stop()
    # Server gone: nothing is shown alive, so neither probe can judge anything (ERROR, never PASS or FAIL).
    r = check_ldap_plain_bind_refused(
        "auth.ldap.tls",
        "ldap",
        Endpoint(host, port),
        bind_dn=weak.bind_dn,
        ldaps=Endpoint(host, weak.endpoints["ldaps"][1]),
    )
    assert r.status is Status.ERROR, r
    stopped = _bind(weak, "ldaps")
    assert stopped.status is Status.ERROR
    assert "Connection refused" in stopped.message
    assert any("connect+tls failed" in line for line in stopped.transcript)
