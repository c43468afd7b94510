"""The cut-over against the twin and slapd, in the issue's order: each switch refused without approval,
proven before and after, undone through the session opened before it when its proof fails; every lockout
case ends with someone able to log in.

Lockouts: a client certificate the twin rejects (its CA removed at the moment of the switch), slapd
stopped at the moment of the LDAP-only switch, and a mapping that leaves the Read-write role unmapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pytest

from securemode.engine import EngineContext, EnsureStep, NoApprovals
from securemode.flows import auth_proofs
from securemode.infra.services import slapd
from securemode.pexip import admin_credential
from securemode.pexip.connect import management_api
from securemode.results import Result, Status
from securemode.site_loader import LoadedSite
from securemode.tasks.auth import cutover, ensure_client_certificates, ensure_ldap_connection, ensure_ldap_roles
from securemode.tasks.auth.cutover import ensure_client_certificate_required, ensure_ldap_only
from securemode.verifiers import auth_readback
from tests.stage_steps import approving
from tests.stages_auth.lab import AuthLab

GATES = approving([auth_proofs.REQUIRE_CERTIFICATES_GATE, auth_proofs.LDAP_ONLY_GATE])
AUTHENTICATION = "/api/admin/configuration/v1/authentication/1/"


def ctx_for(loaded: LoadedSite, approved: bool = True) -> EngineContext:
    return EngineContext(site=loaded, apply=True, gate=GATES if approved else NoApprovals())


def settings(lab: AuthLab) -> dict[str, object]:
    auth = lab.lab.twin.state.authentication()
    return {"source": auth["source"], "client_certificate": auth["client_certificate"]}


def rolled_back(step: EnsureStep, loaded: LoadedSite) -> str:
    """Run ``step`` approved; it must record its switch and the rollback as changes and return the note."""
    ctx = ctx_for(loaded)
    changes = step.run(ctx)
    assert [(c.setting.endswith("(rollback)"), c.applied) for c in changes] == [(False, True), (True, True)]
    notes = [n for n in ctx.skipped if n.startswith("rolled back:")]
    assert len(notes) == 1, ctx.skipped
    return notes[0]


def all_pass(results: Sequence[Result]) -> bool:
    return all(r.status is Status.PASS for r in results)


@pytest.fixture(scope="module")
def prepared(auth_lab: AuthLab) -> AuthLab:
    ctx = ctx_for(auth_lab.lab.loaded)
    for plan in (ensure_ldap_connection, ensure_ldap_roles, ensure_client_certificates):
        EnsureStep(plan.__name__, plan).run(ctx)
    assert ctx.skipped == []
    return auth_lab


def test_an_unmapped_role_is_refused_and_the_local_admin_still_logs_in(prepared: AuthLab) -> None:
    loaded = prepared.lab.loaded
    site = loaded.site
    no_admin = {dn: roles for dn, roles in site.ldap.group_roles.items() if "Read-write" not in roles}
    wrong = LoadedSite(
        site=site.model_copy(update={"ldap": site.ldap.model_copy(update={"group_roles": no_admin})}), path=loaded.path
    )
    ctx = ctx_for(wrong)
    assert EnsureStep("ldap-roles", ensure_ldap_roles).run(ctx) == []
    assert any("Read-write mapped to no LDAP group" in reason for reason in ctx.skipped), ctx.skipped
    assert all_pass(auth_proofs.local_admin_logs_in(loaded))


def test_no_switch_without_approval(prepared: AuthLab) -> None:
    ctx = ctx_for(prepared.lab.loaded, approved=False)
    changes = auth_proofs.REQUIRE_CERTIFICATES.run(ctx)
    assert [c.control for c in changes] == ["auth.client-certificate"] and not changes[0].applied
    assert settings(prepared) == {"source": "LDAP+LOCAL", "client_certificate": "NO"}


def test_a_certificate_the_twin_rejects_is_rolled_back(prepared: AuthLab) -> None:
    loaded, store = prepared.lab.loaded, prepared.lab.twin.state.store
    saved = store.all("ca_certificate")

    def then_distrust(site: LoadedSite) -> Sequence[Result]:
        results = auth_proofs.before_certificates(site)
        for ca in saved:  # the node stops trusting the CA just as the switch is made
            store.delete("ca_certificate", ca["id"])
        return results

    step = EnsureStep(
        "require-client-certificates",
        partial(
            ensure_client_certificate_required,
            then_distrust,
            auth_proofs.certificate_sessions,
            auth_proofs.local_admin_logs_in,
        ),
        gated=auth_proofs.REQUIRE_CERTIFICATES_GATE,
    )
    try:
        message = rolled_back(step, loaded)
    finally:
        for ca in saved:
            store.put("ca_certificate", ca["id"], ca)
    assert ("auth.ldap-login: ERROR" in message or "auth.ldap-login: FAIL" in message) and "rolled back" in message
    assert "a fresh login works again" in message
    assert settings(prepared)["client_certificate"] == "NO"
    assert admin_credential.engine_client_certificate(loaded) is None
    assert all_pass(auth_proofs.local_admin_logs_in(loaded))
    row = auth_readback.check_authentication(
        "auth.client-certificate", "platform", loaded, {"client_certificate": "CN"}
    )
    assert row.status is Status.FAIL and "the last switch was rolled back" in row.message, row.message


def test_proofs_past_the_deadline_are_undone(prepared: AuthLab, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = prepared.lab.loaded
    monkeypatch.setattr(cutover, "DEADLINE_S", 0.0)  # any proof takes longer than no time at all
    assert "the proofs took longer than 0 s" in rolled_back(auth_proofs.REQUIRE_CERTIFICATES, loaded)
    assert settings(prepared)["client_certificate"] == "NO"
    assert all_pass(auth_proofs.local_admin_logs_in(loaded))


def test_client_certificates_required_then_the_engine_uses_its_certificate(prepared: AuthLab) -> None:
    loaded = prepared.lab.loaded
    changes = auth_proofs.REQUIRE_CERTIFICATES.run(ctx_for(loaded))
    assert [c.applied for c in changes] == [True]
    assert settings(prepared)["client_certificate"] == "CN"
    assert admin_credential.engine_client_certificate(loaded) is not None
    assert admin_credential.last_rollback(loaded, "auth.client-certificate") is None
    with management_api(loaded) as api:
        assert api.get(AUTHENTICATION)["client_certificate"] == "CN"  # by certificate: the password is refused now
    assert not all_pass(auth_proofs.local_admin_logs_in(loaded))
    assert auth_proofs.REQUIRE_CERTIFICATES.run(ctx_for(loaded)) == []


def test_slapd_stopped_at_the_ldap_only_switch_is_rolled_back(prepared: AuthLab) -> None:
    loaded, directory = prepared.lab.loaded, prepared.directory

    def stopped_then_proven(site: LoadedSite) -> Sequence[Result]:
        directory.stop()  # the directory goes away the moment the switch is written
        return auth_proofs.after_ldap_only(site)

    step = EnsureStep(
        "ldap-only",
        partial(ensure_ldap_only, auth_proofs.certificate_sessions, stopped_then_proven, auth_proofs.engine_logs_in),
        gated=auth_proofs.LDAP_ONLY_GATE,
    )
    message = rolled_back(step, loaded)
    assert "rolled back" in message and "that session reads {'source': 'LDAP+LOCAL'}" in message
    assert settings(prepared)["source"] == "LDAP+LOCAL"
    host, port = directory.endpoints["ldap"]
    prepared.directory = slapd.start(
        directory.workdir,
        prepared.lab.ca,
        host,
        port,
        directory.endpoints["ldaps"][1],
        passwords={
            "admin": directory.admin_password,
            "bind": directory.bind_password,
            **{u.role: u.password for u in directory.users.values()},
            **({slapd.UNGROUPED: directory.ungrouped.password} if directory.ungrouped else {}),
        },
    )
    assert all_pass(auth_proofs.engine_logs_in(loaded))


def test_ldap_only_then_the_local_admin_is_refused_and_a_second_run_changes_nothing(prepared: AuthLab) -> None:
    loaded = prepared.lab.loaded
    changes = auth_proofs.LDAP_ONLY.run(ctx_for(loaded))
    assert [c.applied for c in changes] == [True]
    assert settings(prepared) == {"source": "LDAP", "client_certificate": "CN"}
    assert all_pass(auth_proofs.after_ldap_only(loaded))
    ctx = ctx_for(loaded)
    again = [
        step.run(ctx)
        for step in (
            EnsureStep("c", ensure_ldap_connection),
            EnsureStep("r", ensure_ldap_roles),
            EnsureStep("k", ensure_client_certificates),
            auth_proofs.REQUIRE_CERTIFICATES,
            auth_proofs.LDAP_ONLY,
        )
    ]
    assert again == [[]] * 5, again
