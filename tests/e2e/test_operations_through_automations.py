"""The event-driven operations end to end through the automations, on a bare lab of its own with a fallback (one
conferencing node): the pipeline converges it (the fallback built and off), `securemode serve` registers the site's
deployments and automations and runs what they start, then

- `securemode incident` → the automation starts `failover/<site>` → it isolates the primary, brings the fallback up
  and pauses for the licence transfer → answered through the API → the fallback is verified and serving;
- `securemode compromise` → the automation starts `rebuild/<site>` → quarantine, rotation, redeploy through the
  pipeline (the lab site pre-approves the gates `bin/main` approves, its MANUAL controls attested by the converging
  run) → the failback pauses for approval → approved through the API → the primary is compliant again (a verify
  run) with new credentials (every one a rebuild rotates holds a new value), new node certificates served, the
  old ones revoked and the old client certificate refused; every fallback VM is off and no failover is active.
  (The old admin password cannot be tried: after the auth cut-over no local login is accepted; see test_rebuild.)

Every wait is bounded; on a timeout the run's state and its last log lines are printed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securemode import rotation
from securemode.ca_adapters import adapter_for
from securemode.deployments import prefect_server
from securemode.failover_marker import active_failover
from securemode.flows.failover_proof import local_admin_logs_in
from securemode.flows.pipeline import run_pipeline
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.paths import STATE_ENV
from securemode.pexip.rebuild_record import same_value
from securemode.pexip.state import site_dir
from securemode.results import Status
from securemode.site import Role
from securemode.site_loader import load_fallback
from securemode.tasks.failover.isolation import primary_vm_names
from securemode.vsphere import open_site_session
from securemode.vsphere.power import POWERED_OFF, POWERED_ON, PowerReader
from tests.e2e.pipeline_runs import APPROVER, GATES, SECUREMODE, cli, run
from tests.e2e.test_rebuild import api_status, served_certificate, values
from tests.own_lab import lab_of_its_own
from tests.prefect_http import api_http

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
SERVE_READY_S = 120.0
FAILOVER_PAUSE_S = 300.0
REBUILD_PAUSE_S = 1200.0
RUN_END_S = 300.0


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    options = UpOptions(nodes=1, profile="bare", sync_interval_s=0.5, contingency=True)
    with lab_of_its_own(options, "securemode-e2e-automations-") as lab:
        yield lab


@pytest.fixture(scope="module")
def api(lab: RunningLab) -> Iterator[str]:
    """The managed Prefect server of the lab's state folder: the one `securemode serve|incident|compromise` use
    there (stopped with the lab); this process's flow runs go to it too."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode import log_redaction

    info, _ = prefect_server.ensure_running()
    log_redaction.install()
    with temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield info.api_url


@dataclass
class Before:
    """What the converged primary held, read before the failover powers it off: the certificates its nodes serve,
    salted digests of the credentials a rebuild rotates (never the values), a copy of an administrator's client
    certificate and key."""

    served: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    client: Path | None = None
    writer: str = ""


@pytest.fixture(scope="module")
def before() -> Before:
    return Before()


@pytest.fixture(scope="module")
def serving(lab: RunningLab, api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`securemode serve --site S` in a process of its own (stopped by its PID); yields its output file."""
    output = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, STATE_ENV: str(lab.manifest.lab_dir.parent)}
    with output.open("w") as sink:
        proc = subprocess.Popen(
            [SECUREMODE, "serve", "--site", str(lab.site_file)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        site = lab.site().site.name
        wanted = {f"securemode {site}: incident → failover", f"securemode {site}: compromise → rebuild"}
        deadline = time.monotonic() + SERVE_READY_S
        found: set[str] = set()
        while time.monotonic() < deadline and not wanted <= found and proc.poll() is None:
            found = {a["name"] for a in call("POST", f"{api}/automations/filter", {}).json()}
            time.sleep(0.5)
        assert wanted <= found, f"serve did not register {sorted(wanted - found)}:\n{output.read_text()[-3000:]}"
        yield output
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def call(method: str, url: str, body: object = None) -> httpx.Response:
    """One API call, repeated while the lab's SQLite-backed server answers 503 (busy with the runs' writes)."""
    return api_http.request(method, url, json=body)


def power(lab: RunningLab, names: list[str]) -> dict[str, str]:
    with open_site_session(lab.site()) as session:
        reader = PowerReader(session)
        return {name: vm.state if (vm := reader.read(name)) else "missing" for name in names}


def fallback_names(lab: RunningLab) -> list[str]:
    plan = lab.site().site.contingency
    assert plan is not None
    return [plan.management_node.name, *(n.name for n in plan.conferencing_nodes)]


def runs_of(api: str, flow: str) -> list[dict[str, Any]]:
    return list(
        call(
            "POST", f"{api}/flow_runs/filter", {"flows": {"name": {"any_": [flow]}}, "sort": "EXPECTED_START_TIME_DESC"}
        ).json()
    )


def last_logs(api: str, run_id: str, count: int = 40) -> str:
    logs = call(
        "POST",
        f"{api}/logs/filter",
        {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_DESC", "limit": count},
    ).json()
    return "\n".join(f"{entry['timestamp']} {entry['message']}" for entry in reversed(logs))


def stuck(api: str, flow: str, what: str, serve_log: Path) -> AssertionError:
    """What a bounded wait reports when it runs out: the run's state and its last log lines."""
    found = runs_of(api, flow)
    if not found:
        return AssertionError(f"{what}: no {flow} run was started\nserve:\n{serve_log.read_text()[-3000:]}")
    latest = found[0]
    state = latest["state"] or {}
    return AssertionError(
        f"{what}: {flow} run {latest['name']} is {state.get('type')} ({state.get('message')})\n"
        f"{last_logs(api, str(latest['id']))}\nserve:\n{serve_log.read_text()[-2000:]}"
    )


def paused_for(api: str, flow: str, key: str, timeout: float, serve_log: Path) -> dict[str, Any]:
    """The run of ``flow`` once it is paused for ``key`` with its input form saved (a resume before that is
    refused); a pause for anything else, or an end, fails at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for found in runs_of(api, flow)[:1]:
            state = found["state"] or {}
            if state.get("type") in ("FAILED", "CRASHED", "COMPLETED", "CANCELLED"):
                raise stuck(api, flow, f"ended before pausing for {key}", serve_log)
        paused = call(
            "POST", f"{api}/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}
        ).json()
        for run_ in paused:
            message = run_["state"]["message"] or ""
            if key not in message:
                raise AssertionError(f"a run paused for something else: {run_['name']}: {message}")
            keyset = run_["state"]["state_details"]["run_input_keyset"]
            if keyset and call("GET", f"{api}/flow_runs/{run_['id']}/input/{keyset['schema']}").status_code == 200:
                return dict(run_)
        time.sleep(1)
    raise stuck(api, flow, f"not paused for {key} within {timeout:.0f} s", serve_log)


def resume(api: str, paused: dict[str, Any], answer: dict[str, object]) -> None:
    reply = call("POST", f"{api}/flow_runs/{paused['id']}/resume", {"run_input": answer})
    assert reply.json().get("status") == "ACCEPT", reply.text


def completed(api: str, flow: str, serve_log: Path, timeout: float = RUN_END_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = runs_of(api, flow)[0]
        kind = (latest["state"] or {}).get("type")
        if kind == "COMPLETED":
            return latest
        if kind in ("FAILED", "CRASHED", "CANCELLED"):
            raise stuck(api, flow, "ended without completing", serve_log)
        time.sleep(1)
    raise stuck(api, flow, f"not completed within {timeout:.0f} s", serve_log)


def test_the_pipeline_converges_the_lab_with_its_fallback_off(
    lab: RunningLab, api: str, before: Before, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the lab site pre-approves the gates bin/main approves (a deployment run takes the site's policy); the MANUAL
    # controls the converging run attests are recorded, so the rebuild's pipeline finds them
    doc = yaml.safe_load(lab.site_file.read_text())
    doc["approvals"] = {"mode": "prompt", "preapproved": GATES, "approver": APPROVER}
    lab.site_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    built = run(lab)
    assert built.compliant(), built.problems
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_OFF}
    loaded = lab.site()
    before.served = {n.name: served_certificate(str(n.address)) for n in loaded.site.nodes()}
    before.digests = values(loaded)
    before.writer = next(a.username for a in loaded.site.administrators if a.role == Role.READ_WRITE)
    before.client = tmp_path_factory.mktemp("old-client")
    for suffix in (".pem", ".key"):
        name = f"{before.writer}{suffix}"
        shutil.copy2(site_dir(loaded) / "client-certificates" / name, before.client / name)


def test_a_declared_incident_fails_over_through_the_automation(lab: RunningLab, api: str, serving: Path) -> None:
    declared = cli(lab, "incident", "--site", str(lab.site_file), "--reason", "primary flooded", "--by", "e2e")
    assert declared.returncode == 0, declared.stdout + declared.stderr

    paused = paused_for(api, "failover", "licence-transfer", FAILOVER_PAUSE_S, serving)
    assert paused["deployment_id"] and paused["parameters"]["reason"] == "primary flooded"  # the automation's run
    assert paused["parameters"]["declared_by"] == "e2e"
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_ON}  # serving while the licence waits
    resume(api, paused, {"who": "licence desk (case 4711)", "note": "re-activated"})
    completed(api, "failover", serving)

    fallback = load_fallback(lab.site())
    assert served_certificate(str(fallback.site.management_node.address))  # its HTTPS answers
    assert local_admin_logs_in(fallback).status is Status.PASS
    assert set(power(lab, primary_vm_names(lab.site().site)).values()) == {POWERED_OFF}
    marker = active_failover(lab.site())
    assert marker is not None and marker.declared_by == "e2e"


def test_a_declared_compromise_rebuilds_through_the_automation(
    lab: RunningLab, api: str, serving: Path, before: Before, tmp_path: Path
) -> None:
    assert before.served and before.client is not None, "the converged primary was read"
    declared = cli(lab, "compromise", "--site", str(lab.site_file), "--reason", "beacons out", "--by", "e2e")
    assert declared.returncode == 0, declared.stdout + declared.stderr

    paused = paused_for(api, "rebuild", "rebuild.failback", REBUILD_PAUSE_S, serving)
    resume(api, paused, {"approved": True, "who": "incident lead", "note": "primary verified"})
    done = completed(api, "rebuild", serving)
    assert done["deployment_id"] and done["parameters"]["reason"] == "beacons out"  # the automation's run
    assert done["parameters"]["declared_by"] == "e2e" and len(runs_of(api, "rebuild")) == 1

    verified = run_pipeline(site_path=str(lab.site_file), mode="verify", report_dir=str(tmp_path / "verify"))
    assert verified.compliant(), verified.problems
    fresh = lab.site()
    nodes = [n.name for n in fresh.site.nodes()]
    for cred in rotation.to_rotate(fresh.site, nodes):  # new credentials
        assert not same_value(before.digests[cred.field], fresh.secret(cred.ref).get_secret_value()), cred.field
    adapter = adapter_for(fresh)
    for node in fresh.site.nodes():  # new node certificates served, the old ones revoked by the CA
        assert served_certificate(str(node.address)) != before.served[node.name], node.name
        old = x509.load_der_x509_certificate(before.served[node.name]).public_bytes(serialization.Encoding.PEM)
        assert adapter.revoked(old.decode())  # type: ignore[attr-defined]
    # the rebuilt Management Node refuses the old client certificate and takes the new one
    mgr, ca_root = str(fresh.site.management_node.address), Path(fresh.site.pki.trusted_ca_files[0])
    old_cert, old_key = before.client / f"{before.writer}.pem", before.client / f"{before.writer}.key"
    assert api_status(mgr, old_cert, old_key, ca_root) in (0, 401, 403)
    folder = site_dir(fresh) / "client-certificates"
    assert api_status(mgr, folder / f"{before.writer}.pem", folder / f"{before.writer}.key", ca_root) == 200
    assert set(power(lab, fallback_names(lab)).values()) == {POWERED_OFF}
    assert active_failover(fresh) is None
