"""pki and platform stages against the twin and the lab CA: plan writes nothing, run converges, every
read-back control passes, a second run changes nothing, drift shows as FAIL for exactly the drifted
control and target, and no secret leaves the process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from securemode.catalogue import Stage, controls_for
from securemode.engine import Change, StageSpec
from securemode.flows.stages import load
from securemode.pexip.client import config_uri
from securemode.pexip.connect import management_api
from securemode.pexip.trust import CaBundle
from securemode.results import Result, Status
from securemode.verifiers.api import readback_pki, readback_platform
from tests.stage_steps import run_steps
from tests.stages_pki_platform.lab import SECRETS, Lab

PKI = load(Stage.PKI)
PLATFORM = load(Stage.PLATFORM)


def run(spec: StageSpec, lab: Lab, apply: bool) -> list[Change]:
    ran = run_steps(spec, lab.loaded, apply)
    assert ran.ctx.skipped == []
    return ran.changes


def snapshot(lab: Lab) -> dict[str, Any]:
    """Everything the stages touch, read on a separate session."""
    with lab.side_api() as api:
        return {r: list(api.iter_objects(r)) for r in (
            "global", "role", "management_vm", "worker_vm", "system_location", "dns_server", "ntp_server",
            "syslog_server", "ca_certificate", "tls_certificate", "certificate_signing_request")}


def by_key(results: list[Result]) -> dict[tuple[str, str], Result]:
    keyed = {(r.control, r.target): r for r in results}
    assert len(keyed) == len(results), "one result per control and target"
    return keyed


def not_passing(results: list[Result]) -> list[tuple[str, str, str, str]]:
    return [(r.control, r.target, r.status.value, r.message) for r in results
            if r.status not in (Status.PASS, Status.NOT_APPLICABLE)]


@pytest.fixture(scope="module")
def converged(lab: Lab) -> dict[str, list[Change]]:
    """Plan (nothing written), then run both stages once."""
    before = snapshot(lab)
    planned = {"pki": run(PKI, lab, apply=False), "platform": run(PLATFORM, lab, apply=False)}
    assert snapshot(lab) == before, "plan must not write"
    applied = {"pki": run(PKI, lab, apply=True), "platform": run(PLATFORM, lab, apply=True)}
    return {**{f"plan-{k}": v for k, v in planned.items()}, **applied}


def test_plan_lists_what_run_then_changes(converged: dict[str, list[Change]]) -> None:
    for stage in ("pki", "platform"):
        planned = [(c.control, c.target, c.setting) for c in converged[f"plan-{stage}"]]
        applied = [(c.control, c.target, c.setting) for c in converged[stage]]
        assert planned and planned == applied
        assert all(c.applied for c in converged[stage]) and not any(c.applied for c in converged[f"plan-{stage}"])


def test_changes_use_catalogue_ids(converged: dict[str, list[Change]]) -> None:
    ids = {c.id for c in controls_for([Stage.PKI, Stage.PLATFORM])}
    assert {c.control for changes in converged.values() for c in changes} <= ids


def test_every_readback_control_passes(lab: Lab, converged: dict[str, list[Change]]) -> None:
    results = readback_pki(lab.loaded) + readback_platform(lab.loaded)
    assert not_passing(results) == []
    keyed = by_key(results)
    site = lab.loaded.site
    assert keyed[("platform.global.chat", "platform")].observed == {"enable_chat": False}
    assert keyed[("platform.role.auditor", "platform")].status is Status.PASS
    for target in (site.management_node.name, "Oslo"):
        for control in ("platform.dns.servers", "platform.ntp.servers", "platform.syslog.servers"):
            assert keyed[(control, target)].status is Status.PASS
    for node in site.nodes():
        assert keyed[("platform.snmp.v3", node.name)].status is Status.PASS
        assert keyed[("platform.ipv6", node.name)].status is Status.NOT_APPLICABLE


def test_management_node_serves_the_ca_signed_certificate(lab: Lab, converged: dict[str, list[Change]]) -> None:
    results = by_key(PKI.verify(lab.loaded))
    mgr = lab.loaded.site.management_node.name
    for control in ("pki.cert.trusted", "pki.cert.name", "pki.cert.validity", "pki.cert.key-pair",
                    "pki.tls12-accepted", "pki.trusted-ca", "pki.sip-tls-fqdn"):
        target = "platform" if control == "pki.trusted-ca" else mgr
        if control == "pki.sip-tls-fqdn":
            target = lab.loaded.site.conferencing_nodes[0].name
        assert results[(control, target)].status is Status.PASS, results[(control, target)].message
    # Conferencing Nodes have no twin listening yet: honest ERROR, never a pass or a fail
    conf = lab.loaded.site.conferencing_nodes[0].name
    assert results[("pki.cert.trusted", conf)].status is Status.ERROR
    # the engine now trusts the node through the site's CA, not the pin
    with management_api(lab.loaded) as api:
        assert isinstance(api.trust, CaBundle) and api.trust.server_name == "mgr01.example.test"


def test_second_run_changes_nothing(lab: Lab, converged: dict[str, list[Change]]) -> None:
    before = snapshot(lab)
    assert run(PKI, lab, apply=True) == []
    assert run(PLATFORM, lab, apply=True) == []
    assert snapshot(lab) == before


@pytest.mark.parametrize(("path", "body", "control", "target"), [
    (config_uri("global", 1), {"enable_chat": True}, "platform.global.chat", "platform"),
    (config_uri("global", 1), {"ocsp_state": "ON"}, "platform.global.ocsp", "platform"),
    ("location:Oslo", {"mtu": 1500}, "platform.location.mtu", "Oslo"),
    ("location:Oslo", {"ntp_servers": []}, "platform.ntp.servers", "Oslo"),
    ("mgr", {"snmp_mode": "STANDARD"}, "platform.snmp.v3", "mgr01"),
    ("conf:conf02", {"alternative_fqdn": "other.example.test"}, "pki.sip-tls-fqdn", "conf02"),
])
def test_drift_fails_exactly_that_control(
    lab: Lab, converged: dict[str, list[Change]], path: str, body: dict[str, Any], control: str, target: str
) -> None:
    with lab.side_api() as api:
        uri = _resolve(api, path)
        api.patch(uri, body)
    results = readback_pki(lab.loaded) + readback_platform(lab.loaded)
    assert [(c, t) for c, t, _, _ in not_passing(results)] == [(control, target)]
    assert by_key(results)[(control, target)].status is Status.FAIL
    # the next run repairs exactly that
    changes = run(PKI, lab, apply=True) + run(PLATFORM, lab, apply=True)
    assert {(c.control, c.target) for c in changes} == {(control, target)}
    assert not_passing(readback_pki(lab.loaded) + readback_platform(lab.loaded)) == []


def test_role_drift(lab: Lab, converged: dict[str, list[Change]]) -> None:
    with lab.side_api() as api:
        roles = {r["name"]: r for r in api.iter_objects("role")}
        perms = {p["name"]: p["resource_uri"] for p in api.iter_objects("permission")}
        auditor = roles["Auditor"]
        api.patch(auditor["resource_uri"], {"permissions": [perms["May use API"]]})
        ro = roles["Read-only"]
        api.patch(ro["resource_uri"], {"permissions": [p["resource_uri"] for p in ro["permissions"]]
                                       + [perms["May view logs"]]})
    failing = {(c, t) for c, t, _, _ in not_passing(readback_platform(lab.loaded))}
    assert failing == {("platform.role.auditor", "platform"), ("platform.role.read-only.no-view-logs", "platform")}
    run(PLATFORM, lab, apply=True)
    assert not_passing(readback_platform(lab.loaded)) == []


def test_no_secret_in_changes_or_results(lab: Lab, converged: dict[str, list[Change]]) -> None:
    text = json.dumps([c.model_dump(mode="json") for changes in converged.values() for c in changes])
    text += json.dumps([r.redacted().model_dump(mode="json") for r in readback_platform(lab.loaded)])
    for value in SECRETS.values():
        assert value not in text


def test_unreadable_api_gives_error_not_fail(lab: Lab, converged: dict[str, list[Change]]) -> None:
    lab.twin.faults.add(__import__("securemode.infra.twin", fromlist=["unavailable"]).unavailable())
    try:
        results = readback_platform(lab.loaded)
    finally:
        lab.twin.faults.clear()
    assert results and {r.status for r in results} <= {Status.ERROR, Status.NOT_APPLICABLE}


def _resolve(api: Any, path: str) -> str:
    if path.startswith("/"):
        return path
    if path == "mgr":
        return str(next(iter(api.iter_objects("management_vm")))["resource_uri"])
    kind, _, name = path.partition(":")
    resource = {"location": "system_location", "conf": "worker_vm"}[kind]
    return str(next(o for o in api.iter_objects(resource) if o["name"] == name)["resource_uri"])
