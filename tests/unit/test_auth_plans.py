"""The auth stage's planners on their own: which authentication fields a run writes, when the write-only
bind password is sent, when the source is left alone, and which group mappings are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.site import Site
from securemode.site_loader import load_site
from securemode.tasks.auth.connection import PASSWORD_FIELD, connection_fields, plan_connection
from securemode.tasks.auth.roles import mapping_name, refusal
from tests.unit.sites import example_document, set_secrets, write_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    set_secrets(monkeypatch)
    return load_site(write_site(tmp_path, example_document())).site


def written(site: Site, current: dict[str, Any], password_known: bool) -> tuple[dict[str, Any] | None, list[str]]:
    bodies: list[dict[str, Any]] = []
    planned = plan_connection(site, current, password_known, bodies.append)
    if planned is None:
        return None, []
    planned.action()
    return bodies[0], [f"{c.control} {c.setting}" for c in planned.changes]


def test_a_fresh_node_gets_every_field_the_password_and_ldap_and_local(site: Site) -> None:
    body, changes = written(site, {"source": "LOCAL"}, password_known=False)
    assert body is not None and body["source"] == "LDAP+LOCAL" and PASSWORD_FIELD in body
    assert body[PASSWORD_FIELD] is None  # a marker: the secret itself is only put in by the write
    assert {k: body[k] for k in connection_fields(site.ldap)} == connection_fields(site.ldap)
    assert "auth.source.ldap-and-local authentication.source" in changes


def test_a_converged_node_gets_nothing_and_ldap_only_is_left_alone(site: Site) -> None:
    converged = {**connection_fields(site.ldap), "source": "LDAP"}
    assert written(site, converged, password_known=True) == (None, [])


def test_an_unknown_password_alone_is_written_alone(site: Site) -> None:
    body, changes = written(site, {**connection_fields(site.ldap), "source": "LDAP+LOCAL"}, password_known=False)
    assert body == {PASSWORD_FIELD: None} and changes == [f"auth.ldap.connection {PASSWORD_FIELD}"]


def test_mappings_are_refused_for_an_unmapped_role_or_a_group_the_directory_lacks(site: Site) -> None:
    groups = list(site.ldap.group_roles)
    assert refusal(site, groups) is None
    assert refusal(site, [g.upper() for g in groups]) is None  # DNs compare case-insensitively
    lacking = refusal(site, groups[1:])
    assert lacking is not None and repr(groups[0]) in lacking and groups[1] in lacking
    no_auditor = {dn: roles for dn, roles in site.ldap.group_roles.items() if "Auditor" not in roles}
    unmapped = site.model_copy(update={"ldap": site.ldap.model_copy(update={"group_roles": no_auditor})})
    assert "Auditor mapped to no LDAP group" in str(refusal(unmapped, groups))


def test_a_mapping_is_named_after_its_group() -> None:
    assert mapping_name("cn=pexip-admins, ou=groups,dc=example,dc=test") == "pexip-admins"
