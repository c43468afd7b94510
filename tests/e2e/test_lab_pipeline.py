"""End to end on the lab: the whole pipeline converges (every control holds), a second run changes nothing,
and breaking a behaviour behind the engine's back makes exactly the affected control and node fail."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.pipeline import PipelineOutcome, run_pipeline
from infra.lab import processes
from infra.lab.pytest_fixture import RunningLab
from infra.pki.ca import LabCA, Validity
from infra.services import chrony
from infra.twin.state.twin_state import TwinState
from securemode import stages
from securemode.catalogue import Stage
from securemode.pexip.connect import management_api
from securemode.results import Status
from securemode.site_loader import LoadedSite

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

GATES = ["host.lockdown", "bootstrap.pin-console-host-key", "bootstrap.pin-web-certificate",
         "bootstrap.securitywizard"]
ATTEST = ["vms.bios.supervisor-password", "bootstrap.wizard.web-sessions", "bootstrap.wizard.icmpv6-redirects",
          "bootstrap.wizard.icmpv6-multicast-echo", "bootstrap.wizard.ipv6-dad", "bootstrap.wizard.anon-dh"]
BAD = {Status.FAIL, Status.ERROR}
SECUREMODE = str(Path(sys.executable).with_name("securemode"))


def cli(lab: RunningLab, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it, in the lab's state folder (its Prefect server is started there
    on first use and stopped with the lab)."""
    env = {**os.environ, "SECUREMODE_STATE_DIR": str(lab.manifest.lab_dir.parent)}
    return subprocess.run([SECUREMODE, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def status_lines(output: str) -> dict[str, str]:
    """`lab status` lines by part name, blanks collapsed: {"twin": "up twin (HTTPS, site CA) API …"}."""
    lines = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] in ("up", "DOWN"):
            lines[words[1]] = " ".join(words)
    return lines


def run(lab: RunningLab, report: Path | None = None) -> PipelineOutcome:
    return run_pipeline(site_path=str(lab.site_file), mode="run", approve=GATES, attest=ATTEST,
                        approver="e2e test", report_dir=str(report) if report else None)


@pytest.fixture(scope="module")
def converged(own_lab: RunningLab, tmp_path_factory: pytest.TempPathFactory) -> PipelineOutcome:
    return run(own_lab, tmp_path_factory.mktemp("report"))


def failing(loaded: LoadedSite, stage: Stage, settle_s: float = 10.0) -> set[tuple[str, str]]:
    """(control, target) of every FAIL or ERROR of ``stage``; waits for the nodes to follow a change."""
    deadline = time.monotonic() + settle_s
    while True:
        bad = {(r.control, r.target) for r in stages.load(stage).verify(loaded) if r.status in BAD}
        if bad or time.monotonic() > deadline:
            return bad
        time.sleep(1)


def test_every_control_holds(converged: PipelineOutcome) -> None:
    assert converged.compliant(), converged.problems
    assert [s.stage for s in converged.stages] == ["host", "vms", "bootstrap", "pki", "platform"]
    assert all(r.status is not Status.MANUAL or r.attestation for s in converged.stages for r in s.results)


def test_second_run_changes_nothing(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    again = run(own_lab)
    assert again.compliant(), again.problems
    assert [c.render() for s in again.stages for c in s.changes] == []


def test_lab_status_is_up_in_the_deployed_state_and_names_a_stopped_part(own_lab: RunningLab,
                                                                         converged: PipelineOutcome) -> None:
    """After the whole pipeline every part answers in the state the deployment put it in: the twin over the
    site's CA (pki replaced the pinned first-boot certificate), SSH 22 closed by the security wizard."""
    status = cli(own_lab, "lab", "status")
    assert status.returncode == 0, status.stdout
    lines = status_lines(status.stdout)
    assert sorted(lines) == sorted(own_lab.manifest.parts), status.stdout
    assert all(line.startswith("up ") for line in lines.values()), status.stdout
    assert "(HTTPS, site CA)" in lines["twin"]
    assert "closed as expected after security wizard" in lines["console"]
    assert "SSH closed after security wizard" in lines["node-mgr"] and "dropped" in lines["node-mgr"]
    for name in ("mgr", "conf01", "conf02"):
        assert "HTTPS site CA" in lines[f"node-{name}"] and "chain to the site CA" in lines[f"node-{name}"]
    assert f"lab up ({len(lines)}/{len(lines)} parts answer)" in status.stdout

    identity = own_lab.part("slapd").process  # no stage probes LDAP, so the tests below are not affected
    assert identity is not None and processes.stop(identity)
    degraded = cli(own_lab, "lab", "status")
    assert degraded.returncode == 1
    assert status_lines(degraded.stdout)["slapd"].startswith("DOWN slapd")
    assert f"lab degraded: slapd down ({len(lines) - 1}/{len(lines)} parts answer)" in degraded.stdout


def test_plan_on_the_compliant_lab_exits_0(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    plan = cli(own_lab, "plan", "--site", str(own_lab.site_file))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "plan: no changes" in plan.stdout


def test_snmp_v2c_public_on_one_node(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = own_lab.site()
    with management_api(loaded) as api:
        [node] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf01"]
        api.patch(node["resource_uri"], {"snmp_mode": "STANDARD", "snmp_community": "public"})
    time.sleep(2)  # the node pulls its configuration
    bad = failing(loaded, Stage.PLATFORM)
    assert ("platform.snmp.v2c-refused", "conf01") in bad
    assert {target for _, target in bad} == {"conf01"}, bad
    plan = cli(own_lab, "plan", "--site", str(own_lab.site_file))  # drift behind the engine's back: exit 4
    assert plan.returncode == 4, plan.stdout + plan.stderr
    assert "platform.snmp.v2c-refused [conf01] snmp_community: {'snmp_community': 'public'} → " \
           "{'snmp_community': \"the site's community\"} (would change)" in plan.stdout.replace("\n", "")
    assert own_lab.secret("snmp-community") not in plan.stdout
    assert "plan: 3 change(s) pending" in plan.stdout
    assert not run(own_lab).problems  # the engine puts it back
    assert failing(loaded, Stage.PLATFORM, settle_s=0) == set()


def test_tls10_enabled_on_the_management_node(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = own_lab.site()
    state = TwinState(own_lab.part("twin").facts["state_dir"])
    before = state.security_settings()
    state.set_security_settings(dataclasses.replace(before, enable_tls10=True))
    try:
        bad = failing(loaded, Stage.PKI)
        assert bad == {("pki.tls10-refused", "mgr"), ("pki.tls11-refused", "mgr")}, bad
    finally:
        state.set_security_settings(before)
    assert failing(loaded, Stage.PKI, settle_s=0) == set()


def test_expired_certificate_on_one_node(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = own_lab.site()
    ca = LabCA.load(Path(str(loaded.site.pki.ca_dir)))
    node = next(n for n in loaded.site.conferencing_nodes if n.name == "conf02")
    issued = ca.issue_server("conf02-expired", dns_names=(node.fqdn, str(node.sip_tls_fqdn)),
                             ip_addresses=(str(node.address),), validity=Validity.expired())
    with management_api(loaded) as api:
        uri = api.create("tls_certificate", {"certificate": issued.fullchain_path.read_text(),
                                             "private_key": issued.key_path.read_text()})
        [worker] = [o for o in api.iter_objects("worker_vm") if o["name"] == "conf02"]
        api.patch(worker["resource_uri"], {"tls_certificate": uri})
    time.sleep(2)
    bad = failing(loaded, Stage.PKI)
    assert ("pki.cert.validity", "conf02") in bad
    assert {target for _, target in bad} == {"conf02"}, bad


def test_wrong_ntp_key_on_the_server(own_lab: RunningLab, converged: PipelineOutcome, tmp_path: Path) -> None:
    loaded = own_lab.site()
    server = loaded.site.ntp_servers[0]
    identity = own_lab.part("ntp1").process
    assert identity is not None
    processes.stop(identity)
    other = chrony.start(tmp_path / "chrony", server.address, server.port,
                         keys=[chrony.NtpKey(server.key_id or 1, "SHA1", b"not-the-site-key-0123")])
    try:
        bad = failing(loaded, Stage.PLATFORM, settle_s=0)
        assert bad == {("platform.ntp.authenticated", server.address)}, bad
    finally:
        other.stop()


def test_syslog_receiver_stopped(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    loaded = own_lab.site()
    identity = own_lab.part("syslog").process
    assert identity is not None
    processes.stop(identity)
    bad = failing(loaded, Stage.PLATFORM, settle_s=0)
    receivers = {f"{s.address}:{s.port}/{s.transport.value}" for s in loaded.site.syslog_servers}
    ntp_down = {("platform.ntp.authenticated", loaded.site.ntp_servers[0].address)}  # stopped by the test above
    assert bad - ntp_down == {("platform.syslog.delivery", r) for r in receivers}, bad
