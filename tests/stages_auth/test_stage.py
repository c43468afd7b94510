"""The whole auth stage against the twin and slapd, after pki and platform: without approval the cut-over
is not made and its rows fail; approved, every auth control holds on verify, and a second run changes
nothing."""

from __future__ import annotations

from securemode.catalogue import Stage, controls_for
from securemode.flows import auth_proofs
from securemode.flows.stages import load
from securemode.flows.stages.auth import BINDINGS, SPEC
from securemode.pexip import admin_credential
from securemode.results import Result, Status
from securemode.verifiers.api import readback_pki, readback_platform
from tests.stage_steps import approving, run_steps
from tests.stages_auth.lab import AuthLab

GATES = approving([auth_proofs.REQUIRE_CERTIFICATES_GATE, auth_proofs.LDAP_ONLY_GATE])
CUT_OVER = {
    "auth.client-certificate",
    "auth.source.ldap-only",
    "auth.local-admin-refused",
    "auth.certificate-required",
}  # a stranger's certificate gets nothing before the cut-over too


def statuses(results: list[Result]) -> dict[str, Status]:
    return {r.control: r.status for r in results}


def test_every_auth_control_is_bound() -> None:
    assert {b.control.id for b in BINDINGS} == {c.id for c in controls_for([Stage.AUTH])}


def test_the_stage_converges_in_order_and_every_auth_control_holds(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    unapproved = run_steps(SPEC, loaded, apply=True)
    assert {c.control for c in unapproved.changes if not c.applied} == {"auth.client-certificate"}
    before = statuses(SPEC.verify(loaded))
    assert {c for c, s in before.items() if s is not Status.PASS} == CUT_OVER, before
    assert before["auth.source.ldap-and-local"] is Status.PASS

    done = run_steps(SPEC, loaded, apply=True, gate=GATES)
    assert [c.control for c in done.applied] == ["auth.client-certificate", "auth.source.ldap-only"]
    results = SPEC.verify(loaded)
    failing = [
        (r.control, r.status.value, r.message)
        for r in results
        if r.status is not Status.PASS
        and not (r.control == "auth.source.ldap-and-local" and r.status is Status.NOT_APPLICABLE)
    ]
    assert failing == []
    assert len(results) == len(controls_for([Stage.AUTH]))

    again = run_steps(SPEC, loaded, apply=True, gate=GATES)
    assert again.changes == []


def test_after_the_cut_over_the_earlier_stages_read_back_by_certificate(auth_lab: AuthLab) -> None:
    """The pki and platform read-backs (later runs, reverify) log in with the engine's certificate now."""
    loaded = auth_lab.lab.loaded
    assert admin_credential.engine_client_certificate(loaded) is not None
    results = readback_pki(loaded) + readback_platform(loaded)
    assert [
        (r.control, r.target, r.message) for r in results if r.status not in (Status.PASS, Status.NOT_APPLICABLE)
    ] == []
    for stage in (Stage.PKI, Stage.PLATFORM):  # their steps read (and would write) by certificate too
        assert run_steps(load(stage), loaded, apply=True).changes == []


def test_a_mapping_changed_behind_the_engines_back_fails_that_row_and_a_run_puts_it_back(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    store = auth_lab.lab.twin.state.store
    readonly_group = auth_lab.directory.groups["readonly"].lower()
    mapping = next(m for m in store.all("ldap_role") if m["ldap_group_dn"].lower() == readonly_group)
    read_write = next(r for r in store.all("role") if r["name"] == "Read-write")
    store.put("ldap_role", mapping["id"], {**mapping, "roles": [read_write["id"]]})  # read-only users may write now
    drifted = {
        r.control: r
        for r in SPEC.verify(loaded)
        if r.status is not Status.PASS
        and not (r.control == "auth.source.ldap-and-local" and r.status is Status.NOT_APPLICABLE)
    }
    assert set(drifted) == {"auth.ldap-roles", "auth.role-enforcement"}, drifted
    assert "changed the configuration" in drifted["auth.role-enforcement"].message
    fixed = run_steps(SPEC, loaded, apply=True, gate=GATES)
    assert [c.control for c in fixed.applied] == ["auth.ldap-roles"]
    assert all(r.status in (Status.PASS, Status.NOT_APPLICABLE) for r in SPEC.verify(loaded))
