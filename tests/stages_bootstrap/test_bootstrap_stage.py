"""The bootstrap stage end to end against the lab node: plan, run, verify, run again, gates."""

from __future__ import annotations

import json

import yaml

from securemode.console.access import console_pins, evidence_path
from securemode.console.client import ConsoleStatus
from securemode.flows.stages.bootstrap import SPEC
from securemode.infra.twin.passwords import make_password
from securemode.pexip.trust import recorded_pin
from securemode.results import Status
from securemode.site_loader import LoadedSite, load_site
from securemode.tasks.bootstrap import read_console
from tests.stage_steps import approving, run_steps
from tests.stages_bootstrap.conftest import ADMIN_PASSWORD, ALL_GATES, FAST, LabNode
from tests.unit.sites import example_document, write_site

# the rows whose guide answer differs from a fresh node's default (the others need no change)
WIZARD_CONTROLS = {f"bootstrap.wizard.{k}" for k in (
    "fips", "disable-admin", "icmpv6-multicast-echo", "ipv6-dad", "host-headers", "web-sessions",
    "web-sessions-per-user", "tls10", "anon-dh")}


def test_plan_on_a_fresh_node_writes_nothing(lab_node: LabNode, site: LoadedSite) -> None:
    planned = run_steps(SPEC, site, apply=False, gate=approving(ALL_GATES))
    assert {"bootstrap.install.admin-password", "bootstrap.web-login", "bootstrap.install.incident-reporting",
            "bootstrap.install.statistics"} <= planned.controls()
    assert not any(c.applied for c in planned.changes)
    pin_change = next(c for c in planned.changes if c.setting == "engine.console_host_key")
    assert pin_change.desired == lab_node.console.host_key_fingerprint()  # type: ignore[union-attr]
    assert console_pins(site).get(lab_node.address, 22) is None
    assert not lab_node.console.node.password_set() and not lab_node.console.node.installed()  # type:
                                                                                               # ignore[union-attr]
    assert planned.ctx.approvals == []


def test_run_verify_and_run_again(lab_node: LabNode, site: LoadedSite) -> None:
    first = run_steps(SPEC, site, apply=True, gate=approving(ALL_GATES))
    assert all(c.applied for c in first.changes), first.ctx.skipped
    assert {c for c in first.controls() if c.startswith("bootstrap.wizard.")} == WIZARD_CONTROLS
    assert [a.step for a in first.ctx.approvals] == sorted(ALL_GATES, key=["bootstrap.pin-console-host-key",
                                                                           "bootstrap.pin-web-certificate",
                                                                           "bootstrap.securitywizard"].index)
    settings = lab_node.console.node.security_settings()  # type: ignore[union-attr]
    assert settings.disable_admin_account and settings.fips_mode and not settings.enable_tls10
    assert (settings.max_web_sessions, settings.max_web_sessions_per_user) == (100, 10)
    assert read_console(site).status is ConsoleStatus.LOGIN_REFUSED  # type: ignore[union-attr]
    assert recorded_pin(site, lab_node.address) is not None
    record = json.loads(evidence_path(site).read_text())
    assert record["answers"]["disable-admin"] is True and record["approved_by"] == "tester"
    assert ADMIN_PASSWORD not in evidence_path(site).read_text()

    results = {r.control: r for r in SPEC.verify(site)}
    status = {control: r.status for control, r in results.items()}
    passes = {"bootstrap.web-login", "bootstrap.install.incident-reporting", "bootstrap.install.statistics",
              "bootstrap.install.admin-password", "bootstrap.wizard.disable-admin", "bootstrap.wizard.host-headers",
              "bootstrap.wizard.web-sessions-per-user", "bootstrap.wizard.tls10", "bootstrap.wizard.fips"}
    assert {c: status[c] for c in passes} == dict.fromkeys(passes, Status.PASS), {
        c: results[c].message for c in passes if status[c] is not Status.PASS}
    # one admin account cannot fill 100 sessions at 10 each: said, not guessed
    assert status["bootstrap.wizard.web-sessions"] is Status.MANUAL
    # no outside view of these in the twin's snapshot: MANUAL, pointing at the recorded evidence
    for row in ("icmpv6-redirects", "icmpv6-multicast-echo", "ipv6-dad", "sip-udp-port", "sip-tcp-port",
                "sip-tls-port", "anon-dh"):
        result = results[f"bootstrap.wizard.{row}"]
        assert result.status is Status.MANUAL and str(evidence_path(site)) in result.message
    # the lab node sits on loopback in the root namespace, where no firewall may drop: observed, not faked
    assert status["bootstrap.wizard.drop-closed-ports"] is Status.FAIL
    assert len(results) == 18 and all(r.target == "mgr01" for r in results.values())
    assert all(ADMIN_PASSWORD not in r.model_dump_json() for r in results.values())

    again = run_steps(SPEC, site, apply=True, gate=approving(ALL_GATES))
    assert again.changes == [] and again.ctx.approvals == [] and again.ctx.skipped == []
    assert run_steps(SPEC, site, apply=False, gate=approving(set())).changes == []
    assert lab_node.console.node.boots() == 3  # type: ignore[union-attr]  # start, install, security wizard

    # the site now asks for another SIP TLS port: known from the record, but only a rebuild could change it
    doc = yaml.safe_load(site.path.read_text())
    doc["security_wizard"] = {"sip_tls_port": 5071}
    changed = load_site(write_site(site.path.parent, doc))
    late = run_steps(SPEC, changed, apply=True, gate=approving(ALL_GATES))
    assert [(c.control, c.current, c.desired, c.applied) for c in late.changes] == [
        ("bootstrap.wizard.sip-tls-port", 5061, 5071, False)]
    assert any("only a rebuild" in s for s in late.ctx.skipped)

    # conferencing nodes in the site that the Management Node does not know yet (an empty host, before the nodes
    # stage): their SIP rows are not applicable here, said so, and nothing is sent to their addresses
    doc["security_wizard"] = {}
    doc["conferencing_nodes"] = example_document()["conferencing_nodes"]
    for i, node in enumerate(doc["conferencing_nodes"]):  # loopback, should a regression send anything
        node["address"] = f"127.0.9.{i + 10}"
    with_nodes = load_site(write_site(site.path.parent, doc))
    sip_rows = [r for r in SPEC.verify(with_nodes) if r.control.startswith("bootstrap.wizard.sip-")]
    assert {r.target for r in sip_rows} == {n["name"] for n in doc["conferencing_nodes"]}
    assert {r.status for r in sip_rows} == {Status.NOT_APPLICABLE}
    assert all("not defined on the Management Node yet" in (r.message or "") for r in sip_rows)


def test_without_pin_approvals_nothing_is_trusted_or_changed(lab_node: LabNode, site: LoadedSite) -> None:
    run = run_steps(SPEC, site, apply=True, gate=approving({"bootstrap.securitywizard"}))
    assert not any(c.applied for c in run.changes)
    assert any(s.startswith("bootstrap.pin-console-host-key: not approved") for s in run.ctx.skipped)
    assert any(s.startswith("installation wizard: the console host key is not pinned") for s in run.ctx.skipped)
    assert not lab_node.console.node.password_set()  # type: ignore[union-attr]
    assert console_pins(site).get(lab_node.address, 22) is None


def test_refused_gate_skips_the_wizard(lab_node: LabNode, site: LoadedSite) -> None:
    run = run_steps(SPEC, site, apply=True, gate=approving(ALL_GATES - {"bootstrap.securitywizard"}))
    wizard = [c for c in run.changes if c.control.startswith("bootstrap.wizard.")]
    assert {c.control for c in wizard} == WIZARD_CONTROLS and not any(c.applied for c in wizard)
    assert any(s.startswith("bootstrap.securitywizard: not approved") for s in run.ctx.skipped)
    assert read_console(site).status is ConsoleStatus.INSTALLED  # type: ignore[union-attr]
    assert not lab_node.console.node.security_settings().disable_admin_account  # type: ignore[union-attr]
    assert not evidence_path(site).exists()


def test_failed_web_login_keeps_the_wizard_from_running(lab_node: LabNode, site: LoadedSite) -> None:
    install_only = run_steps(SPEC, site, apply=True,
                             gate=approving({"bootstrap.pin-console-host-key", "bootstrap.pin-web-certificate"}))
    assert install_only.ctx.skipped  # the wizard was not approved in this first pass
    state = lab_node.console.state  # type: ignore[union-attr]
    answers = state.install_wizard()
    state.set_install_wizard(answers.updated(web_admin_password_hash=make_password("changed-elsewhere",
                                                                                  FAST.password_hash_iterations)))
    from securemode.engine import EngineContext, PreApproved
    from securemode.flows.stages.bootstrap import SPEC as BOOTSTRAP

    ctx = EngineContext(site=site, apply=True, gate=PreApproved(ALL_GATES, who="tester"))
    changes = BOOTSTRAP.step("security-wizard").run(ctx)
    assert changes and not any(c.applied for c in changes)
    assert any("precondition not met: web login failed" in s for s in ctx.skipped)
    assert ctx.approvals == []  # never even asked
    assert read_console(site).status is ConsoleStatus.INSTALLED  # type: ignore[union-attr]
