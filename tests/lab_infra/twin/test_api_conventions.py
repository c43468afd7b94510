"""Tastypie conventions of the twin's Management API (reference §1.3-1.6)."""

from __future__ import annotations

import pytest

from securemode.infra.twin import TwinManagementNode
from tests.lab_infra.twin.helpers import COMMAND, CONFIG, STATUS, Api


@pytest.fixture(scope="module")
def dns(api: Api) -> list[str]:
    return [api.create("dns_server", {"address": f"192.0.2.{i}", "description": f"dns {i:02d}"}) for i in range(1, 26)]


def test_api_roots_list_every_resource_with_endpoint_and_schema(api: Api) -> None:
    roots = api.get(CONFIG).json()
    for name in (
        "global",
        "management_vm",
        "worker_vm",
        "system_location",
        "tls_certificate",
        "ca_certificate",
        "certificate_signing_request",
        "role",
        "permission",
        "authentication",
        "ldap_role",
        "dns_server",
        "ntp_server",
        "syslog_server",
        "licence",
    ):
        assert roots[name] == {"list_endpoint": f"{CONFIG}{name}/", "schema": f"{CONFIG}{name}/schema/"}
    assert set(api.get(STATUS).json()) >= {"worker_vm", "management_vm", "alarm", "licensing"}
    assert "certificates_import" in api.get(COMMAND).json()


def test_list_envelope_and_pagination_follow_meta_next(api: Api, dns: list[str]) -> None:
    first = api.get("dns_server/").json()
    assert first["meta"]["limit"] == 20
    assert first["meta"]["offset"] == 0
    assert first["meta"]["previous"] is None
    assert first["meta"]["total_count"] == len(dns)
    assert len(first["objects"]) == 20
    assert first["meta"]["next"] == f"{CONFIG}dns_server/?limit=20&offset=20"
    second = api.get(first["meta"]["next"]).json()
    assert [o["resource_uri"] for o in first["objects"] + second["objects"]] == dns
    assert second["meta"]["next"] is None
    assert second["meta"]["previous"] == f"{CONFIG}dns_server/?limit=20&offset=0"
    page = api.get("dns_server/", params={"limit": 5, "offset": 10}).json()
    assert [o["address"] for o in page["objects"]] == [f"192.0.2.{i}" for i in range(11, 16)]
    assert len(api.get("dns_server/", params={"limit": 0}).json()["objects"]) == len(dns)


def test_filters_keep_their_parameters_in_next(api: Api, dns: list[str]) -> None:
    body = api.get("dns_server/", params={"description__startswith": "dns 1", "limit": 3}).json()
    assert body["meta"]["total_count"] == 10
    assert "description__startswith=dns+1" in body["meta"]["next"]
    assert api.get("dns_server/", params={"address": "192.0.2.7"}).json()["objects"][0]["resource_uri"] == dns[6]
    assert api.get("dns_server/", params={"description__icontains": "DNS 2"}).json()["meta"]["total_count"] == 6
    assert api.get("dns_server/", params={"address__endswith": ".25"}).json()["meta"]["total_count"] == 1
    assert api.get("dns_server/", params={"id__in": "1,2,3"}).json()["meta"]["total_count"] == 3
    assert api.get("permission/", params={"name__icontains": "LOGS"}).json()["objects"][0]["name"] == "May view logs"


def test_filter_errors_are_400_with_error_text(api: Api) -> None:
    resp = api.get("dns_server/", params={"address__nosuch": "x"})
    assert resp.status_code == 400
    assert "not an allowed filter" in resp.json()["error"]
    resp = api.get("worker_vm/", params={"vm_cpu_count": 4})
    assert resp.status_code == 400
    assert resp.json() == {"error": "The 'vm_cpu_count' field does not allow filtering."}
    assert api.get("dns_server/", params={"limit": "x"}).status_code == 400


def test_order_by_ascending_descending_and_refused_fields(api: Api, dns: list[str]) -> None:
    desc = api.get("dns_server/", params={"order_by": "-description", "limit": 3}).json()["objects"]
    assert [o["description"] for o in desc] == ["dns 25", "dns 24", "dns 23"]
    asc = api.get("dns_server/", params={"order_by": "description", "limit": 2}).json()["objects"]
    assert [o["description"] for o in asc] == ["dns 01", "dns 02"]
    resp = api.get("dns_server/", params={"order_by": "nosuch"})
    assert resp.status_code == 400
    assert resp.json()["error"] == "No matching 'nosuch' field for ordering on."


def test_schema_has_tastypie_keys(api: Api) -> None:
    schema = api.get("worker_vm/schema/").json()
    assert set(schema) >= {
        "allowed_detail_http_methods",
        "allowed_list_http_methods",
        "default_limit",
        "fields",
        "filtering",
        "ordering",
    }
    assert schema["default_limit"] == 20
    assert schema["fields"]["system_location"]["related_type"] == "to_one"
    assert schema["fields"]["node_type"]["valid_choices"] == ["CONFERENCING", "PROXYING"]
    glob = api.get("global/schema/").json()
    assert glob["allowed_detail_http_methods"] == ["get", "patch"]
    assert glob["allowed_list_http_methods"] == ["get"]
    assert api.get("permission/schema/").json()["allowed_detail_http_methods"] == ["get"]
    assert api.get(COMMAND + "certificates_import/schema/").json()["allowed_list_http_methods"] == ["post"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "global/"),
        ("PUT", "global/1/"),
        ("DELETE", "global/1/"),
        ("POST", "global/1/"),
        ("DELETE", "authentication/1/"),
        ("PUT", "authentication/1/"),
        ("POST", "authentication/"),
        ("POST", "permission/"),
        ("PATCH", "permission/1/"),
        ("DELETE", "permission/1/"),
        ("PATCH", "licence/x/"),
        ("POST", STATUS + "worker_vm/"),
        ("DELETE", STATUS + "alarm/"),
        ("GET", COMMAND + "certificates_import/"),
    ],
)
def test_methods_a_resource_does_not_allow_are_405(api: Api, method: str, path: str) -> None:
    resp = api.request(method, path, json={})
    assert resp.status_code == 405
    assert resp.headers["Allow"]


def test_singletons_allow_get_and_patch(api: Api) -> None:
    assert api.patch("global/1/", {"logon_banner": "Authorised use only"}).status_code == 202
    assert api.get("global/1/").json()["logon_banner"] == "Authorised use only"
    assert api.get("global/").json()["meta"]["total_count"] == 1
    assert api.patch("authentication/1/", {"ldap_base_dn": "dc=example,dc=test"}).status_code == 202


def test_unknown_paths_ids_and_missing_slash(api: Api) -> None:
    assert api.get("nosuch/").status_code == 404
    assert api.get("dns_server/99999/").status_code == 404
    assert api.get("dns_server/abc/").status_code == 404
    resp = api.get(CONFIG + "global")
    assert resp.status_code == 301
    assert resp.headers["Location"] == CONFIG + "global/"


def test_invalid_json_and_non_object_bodies_are_400(api: Api) -> None:
    resp = api.request("POST", "dns_server/", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert "error" in resp.json()
    assert api.post("dns_server/", [1, 2]).status_code == 400


def test_unauthenticated_and_bad_credentials_are_401(twin: TwinManagementNode, api: Api) -> None:
    anonymous = Api(twin.base_url, api.session.verify, auth=None)  # type: ignore[arg-type]
    resp = anonymous.get("global/")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    wrong = Api(twin.base_url, api.session.verify, auth=("admin", "wrong"))  # type: ignore[arg-type]
    assert wrong.get("global/").status_code == 401
    assert "wrong" not in wrong.get("global/").text


def test_put_patch_and_delete_on_lists(api: Api) -> None:
    api.create("syslog_server", {"address": "192.0.2.50"})
    api.create("syslog_server", {"address": "192.0.2.51"})
    resp = api.put("syslog_server/", {"objects": [{"address": "192.0.2.60", "port": 6514, "transport": "tls"}]})
    assert resp.status_code == 204
    objects = api.objects("syslog_server")
    assert [(o["address"], o["port"], o["transport"]) for o in objects] == [("192.0.2.60", 6514, "tls")]
    resp = api.patch(
        "syslog_server/",
        {"objects": [{"resource_uri": objects[0]["resource_uri"], "port": 1514}, {"address": "192.0.2.61"}]},
    )
    assert resp.status_code == 202
    assert sorted((o["address"], o["port"]) for o in api.objects("syslog_server")) == [
        ("192.0.2.60", 1514),
        ("192.0.2.61", 514),
    ]
    assert api.delete("syslog_server/").status_code == 204
    assert api.objects("syslog_server") == []
