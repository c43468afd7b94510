"""slapd: real LDAP clients (ldap3) against the lab directory over LDAPS, StartTLS and plain LDAP."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import ldap3
import pytest

from securemode.infra.pki.ca import LabCA, upns_of
from securemode.infra.services import slapd
from securemode.infra.services.process import bound_sockets
from tests.lab_infra.services.fixtures import process_gone


def _tls(ca_file: Path) -> ldap3.Tls:
    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file))


def _ldaps(h: slapd.SlapdHandle, user: str, password: str) -> ldap3.Connection:
    host, port = h.endpoints["ldaps"]
    server = ldap3.Server(host, port=port, use_ssl=True, tls=_tls(h.ca_file), get_info=ldap3.NONE)
    return ldap3.Connection(server, user, password, auto_bind=True)


def test_every_role_user_binds_over_ldaps(ldap_server: slapd.SlapdHandle) -> None:
    assert set(ldap_server.users) == {"admin", "operator", "auditor", "readonly"}
    for user in ldap_server.users.values():
        with _ldaps(ldap_server, user.dn, user.password) as conn:
            assert conn.extend.standard.who_am_i() == f"dn:{user.dn}"
            assert conn.socket.version() in ("TLSv1.2", "TLSv1.3")


def test_starttls_bind_and_plain_bind_refused(ldap_server: slapd.SlapdHandle) -> None:
    host, port = ldap_server.endpoints["ldap"]
    server = ldap3.Server(host, port=port, tls=_tls(ldap_server.ca_file), get_info=ldap3.NONE)
    conn = ldap3.Connection(server, ldap_server.bind_dn, ldap_server.bind_password)
    conn.open()
    assert conn.start_tls()
    assert conn.bind()
    conn.unbind()
    plain = ldap3.Connection(
        ldap3.Server(host, port=port, get_info=ldap3.NONE), ldap_server.bind_dn, ldap_server.bind_password
    )
    assert not plain.bind()
    assert plain.result["result"] == 13  # confidentialityRequired
    plain.unbind()


def test_wrong_password_and_anonymous_are_refused(ldap_server: slapd.SlapdHandle) -> None:
    with pytest.raises(ldap3.core.exceptions.LDAPBindError):
        _ldaps(ldap_server, ldap_server.users["admin"].dn, "not-the-password")
    host, port = ldap_server.endpoints["ldaps"]
    anon = ldap3.Connection(
        ldap3.Server(host, port=port, use_ssl=True, tls=_tls(ldap_server.ca_file), get_info=ldap3.NONE)
    )
    anon.open()
    assert not anon.search(ldap_server.base_dn, "(objectClass=*)")
    anon.unbind()


def test_groups_memberof_and_identities(ldap_server: slapd.SlapdHandle) -> None:
    with _ldaps(ldap_server, ldap_server.bind_dn, ldap_server.bind_password) as conn:
        for role, user in ldap_server.users.items():
            # The identities a client certificate carries: CN form (uid) and UPN form.
            assert conn.search(ldap_server.base_dn, f"(uid={user.uid})", attributes=["memberOf", "cn"])
            assert [str(g) for g in conn.entries[0].memberOf] == [ldap_server.groups[role]]
            assert conn.entries[0].cn.value == user.uid
            assert conn.search(ldap_server.base_dn, f"(userPrincipalName={user.upn.upper()})")
            assert conn.entries[0].entry_dn == user.dn
            assert conn.search(ldap_server.base_dn, f"(mail={user.upn})")
            assert conn.search(
                ldap_server.groups[role], "(objectClass=groupOfNames)", ldap3.BASE, attributes=["member"]
            )
            assert [str(m) for m in conn.entries[0].member] == [user.dn]
        # Pexip's default user filter finds the users; the service account never reads passwords.
        assert conn.search(
            ldap_server.base_dn, "(&(objectclass=person)(!(objectclass=computer)))", attributes=["userPassword"]
        )
        assert len(conn.entries) == 5  # one per role, and the user in no group
        assert all(not e.entry_attributes_as_dict.get("userPassword") for e in conn.entries)
        ungrouped = ldap_server.ungrouped
        assert ungrouped is not None
        assert conn.search(ldap_server.base_dn, f"(uid={ungrouped.uid})", attributes=["memberOf"])
        assert list(conn.entries[0].memberOf) == []


def test_secrets_stay_out_of_repr_config_and_log(ldap_server: slapd.SlapdHandle) -> None:
    secrets = [ldap_server.admin_password, ldap_server.bind_password, *(u.password for u in ldap_server.users.values())]
    secrets += [ldap_server.ungrouped.password] if ldap_server.ungrouped else []
    text = repr(ldap_server) + str(ldap_server.describe())
    text += (ldap_server.workdir / "slapd.conf").read_text() + (ldap_server.workdir / "slapd.out").read_text()
    assert not [s for s in secrets if s in text]
    assert (ldap_server.workdir / "slapd.conf").stat().st_mode & 0o077 == 0


def test_tls_1_1_is_refused_on_ldaps(ldap_server: slapd.SlapdHandle) -> None:
    host, port = ldap_server.endpoints["ldaps"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ldap_server.ca_file)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((host, port), timeout=3) as raw, pytest.raises((ssl.SSLError, OSError)):
        ctx.wrap_socket(raw, server_hostname=host)


def test_configurable_base_passwords_and_stop(tmp_path: Path, lab_ca: LabCA) -> None:
    h = slapd.start(
        tmp_path / "slapd",
        lab_ca,
        "127.0.0.6",
        base_dn="dc=corp,dc=example",
        roles=("admin",),
        passwords={"admin": "Rootpass-123", "bind": "Bindpass-123"},
    )
    try:
        assert h.realm == "corp.example"
        assert h.users["admin"].upn == "lab-admin@corp.example"
        with _ldaps(h, h.bind_dn, "Bindpass-123") as conn:
            assert conn.search("dc=corp,dc=example", "(objectClass=groupOfNames)")
            assert len(conn.entries) == 1
        assert h.startup_s < 10
    finally:
        h.stop()
    assert process_gone(h.pid)
    assert h.endpoints["ldaps"] not in bound_sockets("tcp")
    h.stop()  # idempotent
    assert not h.alive()


def test_client_certificates_match_directory_identities(ldap_server: slapd.SlapdHandle, lab_ca: LabCA) -> None:
    certs = slapd.issue_client_certificates(lab_ca, ldap_server.users.values())
    with _ldaps(ldap_server, ldap_server.bind_dn, ldap_server.bind_password) as conn:
        for role, pair in certs.items():
            cn = pair["cn"].certificate().subject.rfc4514_string().removeprefix("CN=")
            assert conn.search(ldap_server.base_dn, f"(uid={cn})") and len(conn.entries) == 1
            (upn,) = upns_of(pair["upn"].certificate())
            assert conn.search(ldap_server.base_dn, f"(userPrincipalName={upn})")
            assert conn.entries[0].entry_dn == ldap_server.users[role].dn
