"""The auth stage's LDAP steps against a twin and a real slapd: connection and LDAP+LOCAL, then one mapping
per group; plan writes nothing, run converges, a second run changes nothing; refusals write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from securemode.engine import EngineContext, EnsureStep, NoApprovals
from securemode.infra.pki.ca import LabCA
from securemode.site_loader import LoadedSite
from securemode.tasks.auth import ensure_ldap_connection, ensure_ldap_roles
from securemode.tasks.auth.roles import refusal
from tests.stages_auth.lab import AuthLab

STEPS = (EnsureStep("ldap-connection", ensure_ldap_connection), EnsureStep("ldap-roles", ensure_ldap_roles))


def run(loaded: LoadedSite, apply: bool) -> list[Any]:
    ctx = EngineContext(site=loaded, apply=apply, gate=NoApprovals())
    changes = []
    for step in STEPS:
        changes += step.run(ctx)
    assert ctx.skipped == []
    return changes


def auth_settings(auth_lab: AuthLab) -> dict[str, Any]:
    with auth_lab.lab.side_api() as api:
        return {
            "authentication": api.get("/api/admin/configuration/v1/authentication/1/"),
            "ldap_role": list(api.iter_objects("ldap_role")),
        }


def test_plan_writes_nothing_then_run_converges_and_a_second_run_changes_nothing(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    before = auth_settings(auth_lab)
    planned = run(loaded, apply=False)
    assert {c.control for c in planned} == {"auth.ldap.connection", "auth.source.ldap-and-local", "auth.ldap-roles"}
    assert auth_settings(auth_lab) == before
    applied = run(loaded, apply=True)
    assert [c.render() for c in applied if not c.applied] == []
    after = auth_settings(auth_lab)
    assert after["authentication"]["source"] == "LDAP+LOCAL"
    assert after["authentication"]["ldap_server"] == loaded.site.ldap.server
    assert {m["ldap_group_dn"] for m in after["ldap_role"]} == set(loaded.site.ldap.group_roles)
    assert run(loaded, apply=True) == []
    assert auth_lab.directory.bind_password not in repr(applied)


def test_an_unknown_group_is_refused_with_the_groups_the_directory_has(auth_lab: AuthLab) -> None:
    site = auth_lab.lab.loaded.site
    typo = "cn=pexip-admins,ou=groups," + auth_lab.directory.base_dn
    wrong = site.model_copy(
        update={
            "ldap": site.ldap.model_copy(
                update={
                    "group_roles": {
                        **site.ldap.group_roles,
                        typo: site.ldap.group_roles[auth_lab.directory.groups["admin"]],
                    }
                }
            )
        }
    )
    why = refusal(wrong, sorted(auth_lab.directory.groups.values()))
    assert why is not None and repr(typo) in why
    assert all(dn in why for dn in auth_lab.directory.groups.values())


def test_a_mapping_that_leaves_a_role_unmapped_is_refused(auth_lab: AuthLab) -> None:
    site = auth_lab.lab.loaded.site
    no_admin = {dn: roles for dn, roles in site.ldap.group_roles.items() if "Read-write" not in roles}
    wrong = site.model_copy(update={"ldap": site.ldap.model_copy(update={"group_roles": no_admin})})
    why = refusal(wrong, sorted(auth_lab.directory.groups.values()))
    assert why is not None and "Read-write" in why


def test_settings_the_engine_cannot_use_are_refused_before_anything_is_written(
    auth_lab: AuthLab, tmp_path: Path
) -> None:
    """A CA that did not sign the directory's certificate: the engine's own bind fails, nothing is written."""
    other = LabCA.create(tmp_path / "other-ca", name="not the directory's")
    loaded = auth_lab.lab.loaded
    site = loaded.site
    wrong = site.model_copy(update={"ldap": site.ldap.model_copy(update={"ca_file": str(other.root_path)})})
    before = auth_settings(auth_lab)
    ctx = EngineContext(site=LoadedSite(site=wrong, path=loaded.path), apply=True, gate=NoApprovals())
    assert EnsureStep("ldap-connection", ensure_ldap_connection).run(ctx) == []
    assert any("cannot use the site's LDAP settings" in reason for reason in ctx.skipped), ctx.skipped
    assert auth_settings(auth_lab) == before
