"""The contingency deployment's site is the primary's with the fallback's identities and the guide's
exceptions (CPU only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode import fallback_site
from securemode.binding import Planned, split_excepted
from securemode.catalogue import BY_ID, Stage
from securemode.problems import InputError
from securemode.results import Status
from securemode.site_loader import load_site
from securemode.targets import PLATFORM_TARGET
from tests.unit.sites import example_document, set_secrets, with_contingency, write_site


@pytest.fixture
def site_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    set_secrets(monkeypatch)
    return write_site(tmp_path, with_contingency(example_document()))


def test_the_fallback_site_carries_the_fallback_identities(site_path: Path) -> None:
    primary = load_site(site_path)
    fallback = load_site(Path(fallback_site.fallback_path(str(site_path))))
    assert fallback.primary == primary and fallback.is_fallback and not primary.is_fallback
    site, plan = fallback.site, primary.site.contingency
    assert plan is not None
    assert (site.management_node.name, str(site.management_node.address)) == ("mgr-c", "192.0.2.200")
    assert site.management_node.admin_password == "env:SM_CONTINGENCY_ADMIN_PASSWORD"
    assert [n.name for n in site.conferencing_nodes] == [n.name for n in plan.conferencing_nodes]
    assert [n.location for n in site.conferencing_nodes] == [n.location for n in primary.site.conferencing_nodes]
    assert site.contingency is None and site.name != primary.site.name
    # everything else is the primary's desired state
    assert site.global_settings == primary.site.global_settings and site.ldap == primary.site.ldap
    # relative paths and secrets resolve next to the primary's site file
    assert fallback.base_dir == primary.base_dir
    assert fallback.secret(site.management_node.admin_password).get_secret_value() == "contingency-secret-Q9"
    # a task that loads its site by path gets the fallback again
    assert load_site(fallback.path).site == site


def test_a_site_without_contingency_has_no_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    path = write_site(tmp_path, example_document())
    with pytest.raises(InputError) as raised:
        load_site(Path(fallback_site.fallback_path(str(path))))
    assert raised.value.problems[0].field == "contingency"


def test_fallback_path_round_trips() -> None:
    path = fallback_site.fallback_path("/x/site.yaml")
    assert fallback_site.is_fallback_path(path) and fallback_site.fallback_path(path) == path
    assert fallback_site.primary_path(path) == "/x/site.yaml"


def test_the_exceptions_are_auth_controls_of_the_catalogue() -> None:
    assert all(BY_ID[c].stage is Stage.AUTH for c in fallback_site.EXCEPTED_CONTROLS)


def test_excepted_controls_are_not_applicable_and_not_probed() -> None:
    from securemode.binding import Binding, Proof, Target
    from securemode.catalogue import TargetKind

    called: list[str] = []

    def verifier(control: str, target: str) -> Any:
        called.append(control)
        raise AssertionError("an excepted control must not be probed")

    plan = [Planned(Binding(BY_ID[c], None, (Proof(verifier),)), Target(TargetKind.PLATFORM, PLATFORM_TARGET))
            for c in ("auth.source.ldap-only", "auth.ldap-login")]
    checks, skipped = split_excepted(plan, fallback_site.EXCEPTED_CONTROLS)
    assert [c.pair for c in checks] == [("auth.ldap-login", PLATFORM_TARGET)]
    assert [(r.control, r.status) for r in skipped] == [("auth.source.ldap-only", Status.NOT_APPLICABLE)]
    assert "LDAP database and local database" in (skipped[0].message or "") and not called


def test_a_fallback_node_never_takes_the_primary_nodes_own_addresses_or_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secrets(monkeypatch)
    document = with_contingency(example_document())
    document["management_node"]["https_fingerprint_sha256"] = "ab" * 32
    document["conferencing_nodes"][0]["ipv6_address"] = "2001:db8::11/64"
    document["conferencing_nodes"][0]["ipv6_gateway"] = "2001:db8::1"
    primary = load_site(write_site(tmp_path, document))
    fallback = load_site(Path(fallback_site.fallback_path(str(primary.path)))).site
    assert fallback.management_node.https_fingerprint_sha256 is None
    assert fallback.conferencing_nodes[0].ipv6_address is None and fallback.conferencing_nodes[0].ipv6_gateway is None
