"""Contract tests per resource: create/read/update/delete, validation bodies, nested read-back."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from tests.lab_infra.twin.helpers import CONFIG, STATUS, Api

SIMPLE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("dns_server", {"address": "192.0.2.53", "description": "primary"}, {"description": "changed"}),
    ("ntp_server", {"address": "ntp1.example.test", "key_id": 7, "key": "n7p-s3cret"}, {"key_id": 8}),
    ("syslog_server", {"address": "192.0.2.14", "transport": "tcp", "audit_log": True}, {"port": 1514}),
    ("system_location", {"name": "Oslo", "media_qos": 51, "signalling_qos": 40, "mtu": 1400}, {"mtu": 1300}),
    ("role", {"name": "Auditor", "permissions": []}, {"name": "Auditors"}),
    ("ldap_role", {"name": "admins", "ldap_group_dn": "cn=admins,dc=example,dc=test"}, {"name": "ops"}),
    ("static_route", {"name": "r1", "address": "10.1.0.0", "prefix": 16, "gateway": "10.0.0.1"}, {"prefix": 24}),
]


@pytest.mark.parametrize(("resource", "body", "change"), SIMPLE, ids=[s[0] for s in SIMPLE])
def test_crud_round_trip(api: Api, resource: str, body: dict[str, Any], change: dict[str, Any]) -> None:
    resp = api.post(f"{resource}/", body)
    assert resp.status_code == 201
    assert resp.content == b""
    uri = resp.headers["Location"]
    assert uri.startswith(f"{CONFIG}{resource}/")
    obj = api.get(uri).json()
    assert obj["resource_uri"] == uri
    assert obj["id"] == int(uri.rstrip("/").rsplit("/", 1)[1])
    for key, value in body.items():
        if key != "key":
            assert obj[key] == value
    assert api.patch(uri, change).status_code == 202
    after = api.get(uri).json()
    for key, value in change.items():
        assert after[key] == value
    full = {**body, **change}
    assert api.put(uri, full).status_code == 204
    assert api.delete(uri).status_code == 204
    assert api.get(uri).status_code == 404


def test_put_resets_missing_fields_to_defaults(api: Api) -> None:
    uri = api.create("syslog_server", {"address": "192.0.2.15", "port": 6514, "transport": "tls"})
    assert api.put(uri, {"address": "192.0.2.15"}).status_code == 204
    obj = api.get(uri).json()
    assert (obj["port"], obj["transport"]) == (514, "udp")
    assert api.put(uri, {"port": 515}).json() == {"syslog_server": {"address": ["This field is required."]}}


def test_ntp_key_is_write_only(api: Api) -> None:
    uri = api.create("ntp_server", {"address": "192.0.2.123", "key_id": 1, "key": "sup3r-s3cret-key"})
    assert "key" not in api.get(uri).json()
    assert "sup3r-s3cret-key" not in api.get("ntp_server/").text
    assert api.get(uri).json()["key_id"] == 1


@pytest.mark.parametrize(
    ("resource", "body", "field", "message"),
    [
        ("global/1/", {"ocsp_state": "MAYBE"}, "ocsp_state", "Value 'MAYBE' is not a valid choice."),
        ("global/1/", {"management_qos": 64}, "management_qos", "Ensure this value is less than or equal to 63."),
        (
            "global/1/",
            {"management_session_timeout": 4},
            "management_session_timeout",
            "Ensure this value is greater than or equal to 5.",
        ),
        ("global/1/", {"enable_chat": "perhaps"}, "enable_chat", "'perhaps' value must be either True or False."),
        ("global/1/", {"media_ports_start": "x"}, "media_ports_start", "'x' value must be an integer."),
        (
            "global/1/",
            {"ocsp_state": "OVERRIDE", "ocsp_responder_url": ""},
            "ocsp_responder_url",
            "An OCSP responder URL is required when OCSP state is Override.",
        ),
        (
            "global/1/",
            {"logon_banner": "x" * 4097},
            "logon_banner",
            "Ensure this value has at most 4096 characters (it has 4097).",
        ),
        ("management_vm/1/", {"snmp_mode": "V2"}, "snmp_mode", "Value 'V2' is not a valid choice."),
        (
            "management_vm/1/",
            {"snmp_mode": "AUTHPRIV"},
            "snmp_username",
            "This field is required when SNMP mode is SNMPv3 read-only.",
        ),
        (
            "management_vm/1/",
            {"snmp_authentication_password": "short"},
            "snmp_authentication_password",
            "Ensure this value has at least 8 characters (it has 5).",
        ),
        (
            "management_vm/1/",
            {"dns_servers": [f"{CONFIG}dns_server/99999/"]},
            "dns_servers",
            f"Could not find the provided object via resource URI '{CONFIG}dns_server/99999/'.",
        ),
        (
            "authentication/1/",
            {"client_certificate": "CN"},
            "client_certificate",
            "Requires LDAP to be included as an authentication source.",
        ),
        (
            "authentication/1/",
            {"source": "LDAP"},
            "ldap_server",
            "An LDAP server is required when LDAP is an authentication source.",
        ),
        (
            "authentication/1/",
            {"ldap_user_search_filter": "(uid=x)"},
            "ldap_user_search_filter",
            "The filter must contain {username}.",
        ),
    ],
)
def test_invalid_patch_gives_field_keyed_400(
    api: Api, resource: str, body: dict[str, Any], field: str, message: str
) -> None:
    before = api.get(resource).json()
    resp = api.patch(resource, body)
    assert resp.status_code == 400
    name = resource.split("/")[0]
    assert message in resp.json()[name][field]
    assert api.get(resource).json() == before  # nothing half-applied


def test_required_fields_and_unique_names(api: Api) -> None:
    resp = api.post("system_location/", {})
    assert resp.json() == {"system_location": {"name": ["This field is required."]}}
    api.create("system_location", {"name": "Unique-Loc"})
    resp = api.post("system_location/", {"name": "Unique-Loc"})
    assert resp.status_code == 400
    assert resp.json()["system_location"]["name"] == ["System location with this Name already exists."]
    resp = api.post("role/", {"name": "Read-only"})
    assert resp.json()["role"]["name"] == ["Role with this Name already exists."]


def test_secrets_never_echoed_in_errors(api: Api) -> None:
    resp = api.patch("management_vm/1/", {"snmp_privacy_password": "tiny", "snmp_mode": "BAD"})
    assert resp.status_code == 400
    assert "tiny" not in resp.text


def test_management_vm_nests_servers_and_keeps_network_fields_read_only(api: Api) -> None:
    dns = [api.create("dns_server", {"address": a}) for a in ("192.0.2.201", "192.0.2.202")]
    ntp = api.create("ntp_server", {"address": "192.0.2.203", "key_id": 3, "key": "k3y-value"})
    syslog = api.create("syslog_server", {"address": "192.0.2.204"})
    before = api.get("management_vm/1/").json()
    resp = api.patch(
        "management_vm/1/",
        {
            "dns_servers": dns,
            "ntp_servers": [ntp],
            "syslog_servers": [syslog],
            "address": "10.9.9.9",
            "hostname": "evil",
        },
    )
    assert resp.status_code == 202
    mgr = api.get("management_vm/1/").json()
    assert [d["resource_uri"] for d in mgr["dns_servers"]] == dns
    assert mgr["dns_servers"][0]["address"] == "192.0.2.201"
    assert mgr["ntp_servers"][0]["key_id"] == 3
    assert "key" not in mgr["ntp_servers"][0]
    assert mgr["syslog_servers"][0]["address"] == "192.0.2.204"
    assert (mgr["address"], mgr["hostname"]) == (before["address"], before["hostname"])
    assert mgr["tls_certificate"] == f"{CONFIG}tls_certificate/1/"  # to-one comes back as a URI
    # deleting a referenced server drops it from the node
    assert api.delete(dns[0]).status_code == 204
    assert [d["resource_uri"] for d in api.get("management_vm/1/").json()["dns_servers"]] == [dns[1]]


def test_role_permissions_written_as_uris_read_nested(api: Api) -> None:
    perms = {p["name"]: p["resource_uri"] for p in api.objects("permission")}
    wanted = [
        "Is an administrator",
        "May use web interface",
        "May use API",
        "May view logs",
        "May generate system snapshot",
    ]
    uri = api.create("role", {"name": "Auditor-2", "permissions": [perms[n] for n in wanted]})
    role = api.get(uri).json()
    assert sorted(p["name"] for p in role["permissions"]) == sorted(wanted)
    assert set(role["permissions"][0]) == {"id", "name", "codename", "resource_uri"}
    ldap_role = api.create("ldap_role", {"name": "auditors", "ldap_group_dn": "cn=a,dc=x", "roles": [uri]})
    assert api.get(ldap_role).json()["roles"] == [uri]  # ldap_role.roles come back as URIs


def test_builtin_roles_and_permission_table(api: Api) -> None:
    names = {p["name"] for p in api.objects("permission")}
    assert names >= {
        "Is an administrator",
        "May use web interface",
        "May use API",
        "May view logs",
        "May generate system snapshot",
    }
    roles = {r["name"]: {p["name"] for p in r["permissions"]} for r in api.objects("role")}
    assert {"May view logs", "May generate system snapshot"} <= roles["Read-only"]
    assert "May change configuration" not in roles["Read-only"]
    assert "May change configuration" in roles["Read-write"]


def _worker(name: str, address: str, location: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "hostname": name,
        "domain": "example.test",
        "address": address,
        "netmask": "255.255.255.0",
        "gateway": "192.0.2.1",
        "system_location": location,
        "password": "ssh-Pa55word",
        **extra,
    }


def test_worker_vm_create_returns_deployment_file_once(api: Api) -> None:
    loc = api.create("system_location", {"name": "DC-1"})
    resp = api.post("worker_vm/", _worker("cn01", "192.0.2.11", loc))
    assert resp.status_code == 201
    assert resp.headers["Location"].startswith(f"{CONFIG}worker_vm/")
    assert resp.headers["Content-Type"] == "application/xml"
    assert b"<hostname>cn01</hostname>" in resp.content
    assert b"ssh-Pa55word" not in resp.content
    node = api.get(resp.headers["Location"]).json()
    assert node["system_location"] == loc
    assert "password" not in node
    resp = api.post("worker_vm/", _worker("cn02", "192.0.2.12", loc, deployment_type="MANUAL-ESXI6"))
    assert resp.status_code == 201
    assert resp.headers["Content-Type"] == "application/octet-stream"
    with tarfile.open(fileobj=io.BytesIO(resp.content)) as tar:
        names = tar.getnames()
        ovf = tar.extractfile("cn02.ovf").read()  # type: ignore[union-attr]
    assert names[0] == "cn02.ovf" and "cn02.mf" in names
    assert b'ovf:key="address" ovf:type="string" ovf:value="192.0.2.12"' in ovf
    status = api.get(STATUS + "worker_vm/", params={"name": "cn02"}).json()["objects"][0]
    assert status["system_location"] == "DC-1"
    assert status["configuration_id"] == node["id"] + 1


def test_worker_vm_validation(api: Api) -> None:
    loc = api.create("system_location", {"name": "DC-2"})
    api.create("worker_vm", _worker("cn10", "192.0.2.30", loc))
    resp = api.post(
        "worker_vm/",
        _worker("cn10", "192.0.2.30", loc, netmask="255.0.255.0", vm_cpu_count=1, deployment_type="AUTOMATIC"),
    )
    errors = resp.json()["worker_vm"]
    assert resp.status_code == 400
    assert set(errors) == {"name", "hostname", "address", "netmask", "vm_cpu_count", "deployment_type"}
    resp = api.post("worker_vm/", {"name": "cn11"})
    assert set(resp.json()["worker_vm"]) >= {
        "hostname",
        "domain",
        "address",
        "netmask",
        "gateway",
        "system_location",
        "password",
    }
    # a location in use cannot be deleted out from under its nodes
    assert api.delete(loc).status_code == 400


def test_licence_keyed_by_fulfillment_id(api: Api) -> None:
    resp = api.post("licence/", {"entitlement_id": "ENT-1234", "offline_mode": False})
    assert resp.status_code == 201
    fid = resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    lic = api.get(resp.headers["Location"]).json()
    assert lic["fulfillment_id"] == fid
    assert lic["status"] == "ACTIVATED"
    licensing = api.get(STATUS + "licensing/").json()
    assert licensing["objects"][0]["port_total"] == lic["concurrent"]
    assert api.delete(resp.headers["Location"]).status_code == 204
    assert api.objects("licence") == []


def test_status_resources(api: Api) -> None:
    mgr = api.get(STATUS + "management_vm/").json()["objects"][0]
    assert mgr["configuration_id"] == 1
    assert api.get(STATUS + "alarm/").json()["objects"] == []
    assert api.get(STATUS + "licensing/").json()["meta"]["total_count"] == 1
