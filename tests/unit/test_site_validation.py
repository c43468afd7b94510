"""Each user error in a site file gives one clear problem naming the field and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.problems import InputError
from securemode.site_loader import load_site, parse_site
from tests.unit.sites import EXAMPLE, example_document, set_secrets, write_site


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)


def problems_of(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as info:
        load_site(write_site(tmp_path, document))
    return [p.render() for p in info.value.problems if p.severity == "error"]


def only_problem(tmp_path: Path, document: dict[str, Any]) -> str:
    found = problems_of(tmp_path, document)
    assert len(found) == 1, found
    return found[0]


def test_example_site_is_valid() -> None:
    loaded = load_site(EXAMPLE)
    assert loaded.site.name == "example"
    assert [n.fqdn for n in loaded.site.nodes()] == ["mgr01.example.test", "conf01.example.test",
                                                     "conf02.example.test"]
    assert loaded.warnings == ()


def test_defaults_are_the_guides_values(tmp_path: Path) -> None:
    doc = example_document()
    doc["locations"] = [{"name": "Oslo"}]
    doc["global_settings"].pop("session_timeout_minutes")
    site = load_site(write_site(tmp_path, doc)).site
    assert (site.locations[0].media_dscp, site.locations[0].signalling_dscp, site.locations[0].mtu) == (51, 40, 1400)
    assert site.global_settings.management_dscp == 16
    assert site.global_settings.session_timeout_minutes == 10
    wizard = site.security_wizard
    assert (wizard.sip_udp_port, wizard.sip_tcp_port, wizard.sip_tls_port) == (5060, 5060, 5061)
    assert (wizard.max_web_sessions, wizard.max_web_sessions_per_user) == (100, 10)


def test_vlan_4095(tmp_path: Path) -> None:
    doc = example_document()
    doc["conferencing_nodes"][1]["vlan"] = 4095
    msg = only_problem(tmp_path, doc)
    assert msg.startswith("conferencing_nodes[1].vlan: VLAN 4095 is reserved for virtual guest tagging")
    assert "Fix:" in msg


def test_reserved_vlan(tmp_path: Path) -> None:
    doc = example_document()
    doc["vsphere"]["networks"]["vm"]["vlan"] = 1002
    assert only_problem(tmp_path, doc).startswith("vsphere.networks.vm.vlan: VLAN 1002 is on the site's reserved list")


def test_vlan_above_4095_is_a_range_error(tmp_path: Path) -> None:
    doc = example_document()
    doc["management_node"]["vlan"] = 5000
    assert only_problem(tmp_path, doc).startswith("management_node.vlan: Input should be less than or equal to 4095")


@pytest.mark.parametrize(("field", "keep", "needle"), [
    ("dns_servers", 1, "dns_servers: 1 DNS server(s) given; the guide needs at least 2"),
    ("ntp_servers", 1, "ntp_servers: 1 NTP server(s) given; the guide needs at least 2"),
    ("syslog_servers", 0, "syslog_servers: no remote syslog server given"),
])
def test_too_few_servers(tmp_path: Path, field: str, keep: int, needle: str) -> None:
    doc = example_document()
    doc[field] = doc[field][:keep]
    assert only_problem(tmp_path, doc).startswith(needle)


def test_ntp_server_without_key(tmp_path: Path) -> None:
    doc = example_document()
    del doc["ntp_servers"][1]["key"]
    assert only_problem(tmp_path, doc).startswith("ntp_servers[1]: NTP server 192.0.2.124 has no key")


def test_short_snmp_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SM_SNMP_PRIV", "short")
    msg = only_problem(tmp_path, example_document())
    assert msg.startswith("snmp.priv_password: the password behind env:SM_SNMP_PRIV is shorter than 8 characters")
    assert "short" not in msg.replace("shorter", "")  # the value itself is never printed


def test_public_community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SM_SNMP_COMMUNITY", "public")
    assert only_problem(tmp_path, example_document()).startswith("snmp.community: the community is 'public'")


def test_community_is_a_secret_reference_never_inline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = example_document()
    doc["snmp"]["community"] = "k7-not-public"
    assert only_problem(tmp_path, doc).startswith("snmp.community: must be a secret reference, not a value")
    monkeypatch.setenv("SM_SNMP_COMMUNITY", "c" * 17)
    msg = only_problem(tmp_path, example_document())
    assert msg.startswith("snmp.community: the community behind env:SM_SNMP_COMMUNITY is 17 characters")
    assert "c" * 17 not in msg


def test_community_in_a_change_record_is_masked() -> None:
    from securemode.tasks.platform.snmp import shown

    assert shown("snmp_community", "k7-not-public", "k7-not-public") == "the site's community"
    assert shown("snmp_community", "k7-other", "k7-not-public") == "another community"
    assert shown("snmp_community", "public", "k7-not-public") == "public"
    assert shown("snmp_mode", "AUTHPRIV", "k7-not-public") == "AUTHPRIV"


@pytest.mark.parametrize(("path", "value", "needle"), [
    (("locations", 0, "media_dscp"), 64, "locations[0].media_dscp: Input should be less than or equal to 63"),
    (("locations", 0, "signalling_dscp"), -1, "locations[0].signalling_dscp: Input should be greater than or equal"),
    (("global_settings", "management_dscp"), 99, "global_settings.management_dscp: Input should be less than"),
    (("locations", 0, "mtu"), 9000, "locations[0].mtu: Input should be less than or equal to 1500"),
    (("locations", 0, "mtu"), 500, "locations[0].mtu: Input should be greater than or equal to 512"),
    (("global_settings", "session_timeout_minutes"), 4, "global_settings.session_timeout_minutes: Input should be "
                                                         "greater than or equal to 5"),
    (("global_settings", "session_timeout_minutes"), 1441, "global_settings.session_timeout_minutes: Input should "
                                                           "be less than or equal to 1440"),
])
def test_ranges(tmp_path: Path, path: tuple[Any, ...], value: int, needle: str) -> None:
    doc = example_document()
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    msg = only_problem(tmp_path, doc)
    assert msg.startswith(needle), msg
    assert "Fix: use a value inside the allowed range" in msg


@pytest.mark.parametrize(("attr", "value"), [("name", "conf01"), ("hostname", "CONF01"), ("address", "192.0.2.11")])
def test_duplicate_nodes(tmp_path: Path, attr: str, value: str) -> None:
    doc = example_document()
    doc["conferencing_nodes"][1][attr] = value
    msg = only_problem(tmp_path, doc)
    assert msg.startswith(f"conferencing_nodes[1].{attr}: '{value}' is already used by conferencing_nodes[0]")


def test_iops_budget(tmp_path: Path) -> None:
    doc = example_document()
    doc["vsphere"]["iops_budget"] = 2500  # three nodes at the default 1000 each
    msg = only_problem(tmp_path, doc)
    assert msg.startswith("vsphere.iops_budget: the nodes' disk IOPS limits add up to 3000, above the datastore "
                          "budget of 2500")


def test_secret_reference_that_does_not_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SM_LDAP_BIND")
    msg = only_problem(tmp_path, example_document())
    assert msg.startswith("ldap.bind_password: secret reference env:SM_LDAP_BIND does not resolve")


def test_secret_file_reference_relative_to_site(tmp_path: Path) -> None:
    doc = example_document()
    doc["ldap"]["bind_password"] = "file:secrets/ldap.txt"
    assert "file:secrets/ldap.txt does not resolve" in only_problem(tmp_path, doc)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "ldap.txt").write_text("from-a-file\n")
    loaded = load_site(write_site(tmp_path, doc))
    assert loaded.secret(loaded.site.ldap.bind_password).get_secret_value() == "from-a-file"


def test_plain_password_instead_of_reference(tmp_path: Path) -> None:
    doc = example_document()
    doc["vsphere"]["password"] = "Hunter2-plaintext"
    msg = only_problem(tmp_path, doc)
    assert msg.startswith("vsphere.password: must be a secret reference, not a value")
    assert "Hunter2" not in msg


def test_shared_pnics(tmp_path: Path) -> None:
    doc = example_document()
    doc["vsphere"]["networks"]["vm"]["pnics"] = ["vmnic0"]
    assert only_problem(tmp_path, doc).startswith("vsphere.networks.vm.pnics: physical NIC(s) vmnic0 carry both")


def test_unmapped_role(tmp_path: Path) -> None:
    doc = example_document()
    doc["ldap"]["group_roles"] = {"cn=all,dc=example,dc=test": ["Read-only"]}
    assert only_problem(tmp_path, doc).startswith("ldap.group_roles: role(s) Read-write, Auditor mapped to no LDAP")


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    doc = example_document()
    doc["snmp"]["comunity"] = doc["snmp"].pop("community")
    found = problems_of(tmp_path, doc)
    assert "snmp.comunity: is not a known field. Fix: did you mean 'community'? Otherwise remove it" in found


def test_several_problems_reported_together(tmp_path: Path) -> None:
    doc = example_document()
    doc["management_node"]["vlan"] = 4095
    doc["ntp_servers"] = doc["ntp_servers"][:1]
    found = problems_of(tmp_path, doc)
    assert len(found) == 2
    assert found[0].startswith("management_node.vlan: VLAN 4095")
    assert found[1].startswith("ntp_servers: 1 NTP server(s)")


def test_guide_deviation_is_a_warning_not_an_error(tmp_path: Path) -> None:
    doc = example_document()
    doc["locations"][0]["mtu"] = 1500
    loaded = load_site(write_site(tmp_path, doc))
    assert [w.render() for w in loaded.warnings] == [
        "locations[0].mtu: 1500 differs from the guide's recommended 1400. Fix: keep it only if this deployment "
        "needs it"]


@pytest.mark.parametrize(("text", "needle"), [
    ("name: [unclosed", "(file): not valid YAML at line"),
    ("- a list", "(file): the site file must be a YAML mapping"),
])
def test_not_a_site_document(text: str, needle: str) -> None:
    with pytest.raises(InputError) as info:
        parse_site(text, Path("x.yaml"))
    assert info.value.problems[0].render().startswith(needle)


def test_preapproved_step_that_does_not_exist_is_named_with_the_closest(tmp_path: Path) -> None:
    doc = example_document()
    doc["approvals"] = {"mode": "preapproved", "approver": "CISO", "preapproved": ["host.lockdwn"]}
    problem = only_problem(tmp_path, doc)
    assert problem.startswith("approvals.preapproved:") and "'host.lockdwn'" in problem
    assert "did you mean host.lockdown?" in problem


def test_known_preapproved_steps_are_accepted(tmp_path: Path) -> None:
    doc = example_document()
    doc["approvals"] = {"mode": "preapproved", "approver": "CISO", "preapproved": ["host.lockdown"]}
    load_site(write_site(tmp_path, doc))
