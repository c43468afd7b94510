"""The parity diff and its verdicts on hand-built exports (pure functions, CPU only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from securemode.pexip.export import ConfigurationExport, Entry, is_secret_field, natural_key, unique_keys
from securemode.pexip.export_diff import Difference, IdentityMap, contingency_identities, diff_exports
from securemode.results import Status, probe
from securemode.site import Site
from securemode.verifiers.parity import (
    LDAP_AND_LOCAL,
    NO_CLIENT_CERT,
    NO_LICENCE,
    Reading,
    fallback_exception_results,
    judge_parity,
)
from tests.unit.sites import example_document, set_secrets

IDS = {"mgr": "mgr-c", "127.0.0.1": "127.0.0.2", "conf01": "conf01-c", "10.0.0.11": "10.0.0.211"}


def export(
    *,
    source: str = "LDAP",
    client_certificate: str = "CN",
    licences: tuple[str, ...] = ("ENT-1",),
    mgr: str = "mgr",
    mgr_address: str = "127.0.0.1",
    node: str = "conf01",
    node_address: str = "10.0.0.11",
    timeout: int = 10,
    issuer: str = "Lab CA",
    **node_fields: Any,
) -> ConfigurationExport:
    fqdn = f"{node}.example.test"
    worker: Entry = {
        "name": node,
        "hostname": node,
        "address": node_address,
        "netmask": "255.255.255.0",
        "system_location": "London",
        "tls_certificate": fqdn,
        "alternative_fqdn": fqdn,
        "snmp_mode": "AUTHPRIV",
        **node_fields,
    }
    return ConfigurationExport(
        source=f"https://{mgr_address}",
        read_at=dt.datetime.now(dt.UTC),
        singletons={
            "global": {"management_session_timeout": timeout, "management_qos": 16},
            "authentication": {
                "source": source,
                "client_certificate": client_certificate,
                "ldap_server": "ldap.example.test",
            },
        },
        collections={
            "management_vm": {
                f"{mgr}.example.test": {
                    "name": f"{mgr}.example.test",
                    "hostname": mgr,
                    "address": mgr_address,
                    "dns_servers": ["127.0.53.1"],
                }
            },
            "worker_vm": {node: worker},
            "system_location": {"London": {"name": "London", "media_qos": 51, "signalling_qos": 40}},
            "tls_certificate": {fqdn: {"subject_name": fqdn, "issuer_name": issuer, "serial_no": f"{node}-serial"}},
            "licence": {e: {"entitlement_id": e, "status": "ACTIVATED"} for e in licences},
        },
    )


PRIMARY = export()
FALLBACK = export(
    source="LDAP+LOCAL",
    client_certificate="NO",
    licences=(),
    mgr="mgr-c",
    mgr_address="127.0.0.2",
    node="conf01-c",
    node_address="10.0.0.211",
)


def by_path(diffs: list[Difference]) -> dict[str, Difference]:
    return {d.path: d for d in diffs}


def test_identical_exports_have_no_difference() -> None:
    assert diff_exports(PRIMARY, PRIMARY, {}) == []


def test_the_guides_exceptions_and_node_identities_are_all_allowed() -> None:
    diffs = by_path(diff_exports(PRIMARY, FALLBACK, IDS))
    assert all(d.allowed for d in diffs.values()), [d for d in diffs.values() if not d.allowed]
    assert diffs["authentication.source"].reason.startswith("guide exception")
    assert diffs["authentication.client_certificate"].fallback == "NO"
    assert diffs["licence[ENT-1]"].fallback is None
    assert diffs["worker_vm[conf01].address"].primary == "10.0.0.11"
    assert diffs["worker_vm[conf01].address"].fallback == "10.0.0.211"
    assert "per-node identity" in diffs["worker_vm[conf01].name"].reason
    assert "management_vm[mgr.example.test].hostname" in diffs
    assert diffs["tls_certificate[conf01.example.test].serial_no"].allowed
    assert not any(p.startswith(("global", "system_location")) for p in diffs)


def test_a_changed_global_setting_is_not_allowed() -> None:
    diffs = by_path(diff_exports(export(timeout=25), FALLBACK, IDS))
    wrong = [d for d in diffs.values() if not d.allowed]
    assert [(d.path, d.primary, d.fallback) for d in wrong] == [("global.management_session_timeout", 25, 10)]


@pytest.mark.parametrize(("field", "value"), [("source", "LOCAL"), ("source", "LDAP"), ("client_certificate", "UPN")])
def test_a_fallback_authentication_outside_the_exception_is_not_allowed(field: str, value: str) -> None:
    fallback = FALLBACK.model_copy(
        update={
            "singletons": {
                **FALLBACK.singletons,
                "authentication": {**FALLBACK.singletons["authentication"], field: value},
            }
        }
    )
    diffs = by_path(diff_exports(PRIMARY, fallback, IDS))
    if PRIMARY.singletons["authentication"][field] == value:
        assert f"authentication.{field}" not in diffs
    else:
        assert not diffs[f"authentication.{field}"].allowed


def test_a_licence_on_the_fallback_is_not_allowed() -> None:
    licensed = export(
        source="LDAP+LOCAL",
        client_certificate="NO",
        licences=("ENT-1",),
        mgr="mgr-c",
        mgr_address="127.0.0.2",
        node="conf01-c",
        node_address="10.0.0.211",
    )
    assert "licence[ENT-1]" not in by_path(diff_exports(PRIMARY, licensed, IDS))  # same licence: no difference
    other = licensed.model_copy(
        update={"collections": {**licensed.collections, "licence": {"ENT-9": {"entitlement_id": "ENT-9"}}}}
    )
    diffs = by_path(diff_exports(PRIMARY, other, IDS))
    assert diffs["licence[ENT-1]"].allowed
    assert not diffs["licence[ENT-9]"].allowed


def test_an_identity_the_map_does_not_give_is_not_allowed() -> None:
    stray = export(
        source="LDAP+LOCAL",
        client_certificate="NO",
        licences=(),
        mgr="mgr-c",
        mgr_address="127.0.0.2",
        node="conf01-c",
        node_address="10.0.0.99",
    )
    diffs = by_path(diff_exports(PRIMARY, stray, IDS))
    assert not diffs["worker_vm[conf01].address"].allowed
    assert [p for p, d in diffs.items() if not d.allowed] == ["worker_vm[conf01].address"]


def test_without_the_identity_map_the_nodes_do_not_match() -> None:
    diffs = diff_exports(PRIMARY, FALLBACK, {})
    wrong = {d.path for d in diffs if not d.allowed}
    assert {"worker_vm[conf01]", "worker_vm[conf01-c]", "management_vm[mgr.example.test]"} <= wrong


def test_a_node_setting_besides_its_identity_is_not_allowed() -> None:
    diffs = by_path(
        diff_exports(
            PRIMARY,
            export(
                source="LDAP+LOCAL",
                client_certificate="NO",
                licences=(),
                mgr="mgr-c",
                mgr_address="127.0.0.2",
                node="conf01-c",
                node_address="10.0.0.211",
                snmp_mode="STANDARD",
            ),
            IDS,
        )
    )
    assert not diffs["worker_vm[conf01].snmp_mode"].allowed


def test_a_certificate_from_another_issuer_is_not_allowed() -> None:
    other_ca = export(
        source="LDAP+LOCAL",
        client_certificate="NO",
        licences=(),
        mgr="mgr-c",
        mgr_address="127.0.0.2",
        node="conf01-c",
        node_address="10.0.0.211",
        issuer="Someone Else",
    )
    diffs = by_path(diff_exports(PRIMARY, other_ca, IDS))
    assert not diffs["tls_certificate[conf01.example.test].issuer_name"].allowed
    assert diffs["tls_certificate[conf01.example.test].serial_no"].allowed


def test_identity_map_reads_fqdns_and_san_lists() -> None:
    ids = IdentityMap(IDS)
    assert ids.text("conf01.example.test") == "conf01-c.example.test"
    assert ids.text("mgr.example.test, mgr, 127.0.0.1") == "mgr-c.example.test, mgr-c, 127.0.0.2"
    assert ids.text("127.0.0.5") == "127.0.0.5"
    assert ids.text("London") == "London"


def test_shared_natural_keys_are_numbered_oldest_first() -> None:
    certs = [
        {"subject_name": "mgr.example.test", "start_date": "2026-12-01T10:00:00"},
        {"subject_name": "mgr.example.test", "start_date": "2026-01-01T10:00:00"},
        {"subject_name": "conf01.example.test", "start_date": "2026-01-01T10:00:00"},
    ]
    assert unique_keys("tls_certificate", certs) == [
        "mgr.example.test #2",
        "mgr.example.test #1",
        "conf01.example.test",
    ]


def test_fingerprint_ignores_where_and_when_but_not_what() -> None:
    later = PRIMARY.model_copy(update={"read_at": PRIMARY.read_at + dt.timedelta(hours=1), "source": "https://x"})
    assert later.fingerprint() == PRIMARY.fingerprint()
    assert export(timeout=11).fingerprint() != PRIMARY.fingerprint()
    assert len(PRIMARY.fingerprint()) == 64


def test_secret_field_names_and_natural_keys() -> None:
    for name in (
        "snmp_community",
        "snmp_privacy_password",
        "key",
        "private_key",
        "secondary_config_passphrase",
        "aws_secret_key",
        "snmp_trap_community",
        "ldap_bind_password",
    ):
        assert is_secret_field(name), name
    for name in ("key_id", "snmp_username", "ssh_authorized_keys", "ldap_bind_username", "subject_name"):
        assert not is_secret_field(name), name
    assert (
        natural_key("syslog_server", {"address": "10.1.1.1", "port": 6514, "transport": "tls"}) == "tls://10.1.1.1:6514"
    )
    assert natural_key("ntp_server", {"address": "10.2.2.2", "name": "ignored"}) == "10.2.2.2"
    assert natural_key("role", {"name": "Auditor"}) == "Auditor"


def test_parity_verdicts_on_readings() -> None:
    with probe("contingency.parity", "c") as p:
        judge_parity(p, Reading("primary", PRIMARY), Reading("fallback", FALLBACK), IDS)
    assert p.result.status is Status.PASS
    assert isinstance(p.result.observed, dict)
    assert f"{len(p.result.observed['allowed'])} allowed difference(s)" in p.result.message
    with probe("contingency.parity", "c") as p:
        judge_parity(p, Reading("primary", export(timeout=25)), Reading("fallback", FALLBACK), IDS)
    assert p.result.status is Status.FAIL
    assert "global.management_session_timeout: primary 25, fallback 10" in p.result.message
    with probe("contingency.parity", "c") as p:
        judge_parity(p, Reading("primary", None, "timeout"), Reading("fallback", None, "refused"), IDS)
    assert p.result.status is Status.ERROR
    assert "cannot read the primary: timeout" in p.result.message
    assert "cannot read the fallback: refused" in p.result.message
    with probe("contingency.parity", "c") as p:
        judge_parity(p, Reading("primary", PRIMARY), Reading("fallback", PRIMARY), IDS)
    assert p.result.status is Status.ERROR
    assert "one node, not two" in p.result.message


def test_exception_rows_on_one_reading() -> None:
    ok = {r.control: r.status for r in fallback_exception_results("c", Reading("fallback", FALLBACK))}
    assert ok == {LDAP_AND_LOCAL: Status.PASS, NO_CLIENT_CERT: Status.PASS, NO_LICENCE: Status.PASS}
    bad = {r.control: r for r in fallback_exception_results("c", Reading("fallback", PRIMARY))}
    assert {c: r.status for c, r in bad.items()} == {c: Status.FAIL for c in ok}
    assert bad[NO_LICENCE].observed == ["ENT-1"]
    unread = fallback_exception_results("c", Reading("fallback", None, "refused"))
    assert {r.status for r in unread} == {Status.ERROR}


def test_contingency_identities_from_the_site(monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    doc = example_document()
    mgr, nodes = doc["management_node"], doc["conferencing_nodes"]
    doc["contingency"] = {
        "management_node": {"name": f"{mgr['name']}-c", "hostname": f"{mgr['hostname']}-c", "address": "10.99.0.10"},
        "conferencing_nodes": [
            {"name": f"{n['name']}-c", "hostname": f"{n['hostname']}-c", "address": f"10.99.0.{20 + i}"}
            for i, n in enumerate(nodes)
        ],
        "local_admin_password": "env:SM_ADMIN_PASSWORD",
    }
    site = Site.model_validate(doc)
    ids = contingency_identities(site)
    assert ids[mgr["name"]] == f"{mgr['name']}-c"
    assert ids[str(mgr["address"])] == "10.99.0.10"
    assert ids[f"{nodes[0]['hostname']}.{nodes[0]['domain']}"] == f"{nodes[0]['hostname']}-c.{nodes[0]['domain']}"
    doc["contingency"]["conferencing_nodes"].pop()
    with pytest.raises(ValueError, match="each Conferencing Node needs its fallback"):
        contingency_identities(Site.model_validate(doc))
    doc.pop("contingency")
    with pytest.raises(ValueError, match="no contingency section"):
        contingency_identities(Site.model_validate(doc))
