"""End to end on the converged lab: every control holds, a second run changes nothing, and breaking a behaviour
behind the engine's back makes exactly the affected control and node fail. Each case puts back what it broke,
but the last three (an expired certificate on conf02, the first NTP server and the syslog receiver stopped),
which the next module, stopping the rest of the parts, does not mind."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from securemode.catalogue import Stage
from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab import processes
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.pki.ca import LabCA, Validity
from securemode.infra.services import chrony
from securemode.infra.twin.state.twin_state import TwinState
from securemode.paths import state_dir
from securemode.pexip.connect import management_api
from securemode.results import Status
from tests.e2e.pipeline_runs import APPROVER, ATTEST, cli, failing, failing_once_it_shows, run, status_lines

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_every_control_holds(converged: PipelineOutcome) -> None:
    """Every control a probe can establish is PASS (or not applicable); the MANUAL ones are exactly those this
    test attested, still MANUAL and carrying its attestation: it claims nothing about them."""
    assert converged.compliant(), converged.problems
    assert [s.stage for s in converged.stages] == [
        "host", "vms", "bootstrap", "nodes", "pki", "platform", "auth", "contingency"]
    results = [r for s in converged.stages for r in s.results]
    manual = [r for r in results if r.status is Status.MANUAL]
    assert {r.control for r in manual} == set(ATTEST)
    assert all(r.attestation is not None and r.attestation.who == APPROVER for r in manual), manual
    proven = [r for r in results if r.status is not Status.MANUAL]
    assert {r.status for r in proven} <= {Status.PASS, Status.NOT_APPLICABLE}
    assert all(r.attestation is None and r.control not in ATTEST for r in proven)


def test_manual_controls_stop_the_pipeline_without_an_attestation(lab: RunningLab, converged: PipelineOutcome) -> None:
    """With this test's attestations kept aside, the same lab's MANUAL controls stay MANUAL, unattested, and
    make the stages that hold them non-compliant: nothing but a person's word turns them green."""
    store = state_dir() / "attestations"
    aside = store.with_name("attestations-aside")
    store.rename(aside)
    try:
        verified = run_pipeline(site_path=str(lab.site_file), stage_names=["vms", "bootstrap"], mode="verify")
    finally:
        shutil.rmtree(store, ignore_errors=True)  # whatever this run recorded (it should record nothing)
        aside.rename(store)
    results = [r for s in verified.stages for r in s.results]
    manual = {r.control for r in results if r.status is Status.MANUAL}
    assert manual == {c for c in ATTEST if c.startswith(("vms.", "bootstrap."))}
    assert all(r.attestation is None for r in results)
    assert {r.status for r in results if r.control not in manual} <= {Status.PASS, Status.NOT_APPLICABLE}
    assert not verified.compliant()
    assert [p.split(";")[0] for p in verified.problems] == [
        "stage vms is not compliant",
        "stage bootstrap is not compliant",
    ], verified.problems
    assert all(control in " ".join(verified.problems) for control in manual), verified.problems


def test_second_run_changes_nothing(lab: RunningLab, converged: PipelineOutcome) -> None:
    again = run(lab)
    assert again.compliant(), again.problems
    assert [c.render() for s in again.stages for c in s.changes] == []


def test_lab_status_is_up_in_the_deployed_state(lab: RunningLab, converged: PipelineOutcome) -> None:
    """After the whole pipeline every part answers in the state the deployment put it in: the twin over the
    site's CA (pki replaced the pinned first-boot certificate) and refusing a request without a client
    certificate (the auth stage's cut-over), SSH 22 closed by the security wizard."""
    status = cli(lab, "lab", "status")
    assert status.returncode == 0, status.stdout
    lines = status_lines(status.stdout)
    assert sorted(lines) == sorted(lab.manifest.parts), status.stdout
    assert all(line.startswith("up ") for line in lines.values()), status.stdout
    assert "(HTTPS, site CA, client certificate required)" in lines["twin"]  # the auth stage's cut-over
    assert "closed as expected after security wizard" in lines["console"]
    assert "SSH closed after security wizard" in lines["node-mgr"] and "dropped" in lines["node-mgr"]
    for name in ("mgr", "conf01", "conf02"):
        assert "HTTPS site CA" in lines[f"node-{name}"] and "chain to the site CA" in lines[f"node-{name}"]
    assert f"lab up ({len(lines)}/{len(lines)} parts answer)" in status.stdout


def test_plan_on_the_compliant_lab_exits_0(lab: RunningLab, converged: PipelineOutcome) -> None:
    plan = cli(lab, "plan", "--site", str(lab.site_file))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "plan: no changes" in plan.stdout


def test_snmp_v2c_public_on_one_node(lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = lab.site()
    with management_api(loaded) as api:
        [node] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf01"]
        api.patch(node["resource_uri"], {"snmp_mode": "STANDARD", "snmp_community": "public"})
    bad = failing_once_it_shows(loaded, Stage.PLATFORM, {("platform.snmp.v2c-refused", "conf01")})
    assert {target for _, target in bad} == {"conf01"}, bad
    plan = cli(lab, "plan", "--site", str(lab.site_file))  # drift behind the engine's back: exit 4
    assert plan.returncode == 4, plan.stdout + plan.stderr
    assert (
        "platform.snmp.v2c-refused [conf01] snmp_community: {'snmp_community': 'public'} → "
        "{'snmp_community': \"the site's community\"} (would change)" in plan.stdout.replace("\n", "")
    )
    assert lab.secret("snmp-community") not in plan.stdout
    assert "plan: 3 change(s) pending" in plan.stdout
    assert not run(lab, stage_names=["platform"]).problems  # the engine puts it back
    assert failing(loaded, Stage.PLATFORM) == set()


def test_tls10_enabled_on_the_management_node(lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = lab.site()
    state = TwinState(lab.part("twin").facts["state_dir"])
    before = state.security_settings()
    state.set_security_settings(dataclasses.replace(before, enable_tls10=True))
    try:
        expected = {("pki.tls10-refused", "mgr"), ("pki.tls11-refused", "mgr")}
        assert failing_once_it_shows(loaded, Stage.PKI, expected) == expected
    finally:
        state.set_security_settings(before)
    assert failing(loaded, Stage.PKI) == set()


def test_expired_certificate_on_one_node(lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = lab.site()
    ca = LabCA.load(Path(str(loaded.site.pki.ca_dir)))
    node = next(n for n in loaded.site.conferencing_nodes if n.name == "conf02")
    issued = ca.issue_server(
        "conf02-expired",
        dns_names=(node.fqdn, str(node.sip_tls_fqdn)),
        ip_addresses=(str(node.address),),
        validity=Validity.expired(),
    )
    with management_api(loaded) as api:
        uri = api.create(
            "tls_certificate",
            {"certificate": issued.fullchain_path.read_text(), "private_key": issued.key_path.read_text()},
        )
        [worker] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf02"]
        api.patch(worker["resource_uri"], {"tls_certificate": uri})
    bad = failing_once_it_shows(loaded, Stage.PKI, {("pki.cert.validity", "conf02")})
    assert {target for _, target in bad} == {"conf02"}, bad


def test_wrong_ntp_key_on_the_server(lab: RunningLab, converged: PipelineOutcome, tmp_path: Path) -> None:
    loaded = lab.site()
    server = loaded.site.ntp_servers[0]
    identity = lab.part("ntp1").process
    assert identity is not None
    processes.stop(identity)
    other = chrony.start(
        tmp_path / "chrony",
        server.address,
        server.port,
        keys=[chrony.NtpKey(server.key_id or 1, "SHA1", b"not-the-site-key-0123")],
    )
    try:
        bad = failing(loaded, Stage.PLATFORM)
        assert bad == {("platform.ntp.authenticated", server.address)}, bad
    finally:
        other.stop()


def test_syslog_receiver_stopped(lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = lab.site()
    identity = lab.part("syslog").process
    assert identity is not None
    processes.stop(identity)
    bad = failing(loaded, Stage.PLATFORM)
    receivers = {f"{s.address}:{s.port}/{s.transport.value}" for s in loaded.site.syslog_servers}
    ntp_down = {("platform.ntp.authenticated", loaded.site.ntp_servers[0].address)}  # stopped by the test above
    assert bad - ntp_down == {("platform.syslog.delivery", r) for r in receivers}, bad
