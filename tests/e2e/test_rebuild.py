"""Rebuild after a compromise, on a bare lab of its own (one conferencing node): the pipeline converges it, then a
rebuild killed twice (mid-quarantine, mid-rotation) and finished from the command line ends in one rebuilt
deployment — every node's VM once, the old VMs kept powered off, disconnected and snapshotted under their quarantine
names — compliant again, with every secret reference of the site either rotated or kept for a stated reason (salted
digests compared, no value printed), the old LDAP bind password refused, new node certificates served, the old node
and client certificates revoked by the CA and the old client certificate refused by the rebuilt node.

The old admin password cannot be tried against the rebuilt node: after the auth stage's cut-over (LDAP only, client
certificates) no local login is accepted with any password; the test asserts the value behind the reference is new
and the rebuild's pipeline installed the node with it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import ldap3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securemode import rotation
from securemode.ca_adapters import adapter_for
from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.flows.rebuild import RebuildOutcome
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.pexip import rebuild_record
from securemode.pexip.rebuild_record import salted_digest, same_value
from securemode.pexip.state import site_dir
from securemode.reports.json_report import read_report
from securemode.results import Status
from securemode.site import Role
from securemode.site_loader import LoadedSite
from securemode.vsphere import open_site_session
from securemode.vsphere.desired_vm import nics
from securemode.vsphere.power import POWERED_OFF, read_vm_power
from securemode.vsphere.vmodl import vim
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES, cli, run
from tests.e2e.rebuild_child import STALLED
from tests.e2e.test_bare_lab_stages import _output_until
from tests.own_lab import lab_of_its_own
from tests.unit.test_rebuild_rotation import secret_fields

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
CHILD_WAIT_S = 180.0


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with lab_of_its_own(UpOptions(nodes=1, profile="bare", sync_interval_s=0.5), "securemode-e2e-rebuild-") as lab:
        yield lab


def vms(lab: RunningLab) -> dict[str, object]:
    """Every VM on the host by name (a name twice would show as a shorter dict than the list: see vm_names)."""
    with open_site_session(lab.site()) as session:
        content = session.content
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        try:
            return {vm.name: _facts(vm) for vm in view.view}
        finally:
            view.Destroy()


def vm_names(lab: RunningLab) -> list[str]:
    with open_site_session(lab.site()) as session:
        content = session.content
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        try:
            return sorted(vm.name for vm in view.view)
        finally:
            view.Destroy()


def _facts(vm: object) -> tuple[str, int, list[str]]:
    snapshots = getattr(vm, "snapshot", None)
    names = [str(s.name) for s in snapshots.rootSnapshotList] if snapshots else []
    connected = sum(1 for nic in nics(vm) if nic.connectable.connected or nic.connectable.startConnected)
    return read_vm_power(vm).state, connected, names


def served_certificate(address: str, port: int = 443) -> bytes:
    """The certificate a node serves (read, not trusted: this only compares)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return der


def values(loaded: LoadedSite) -> dict[str, dict[str, str]]:
    """Salted digests of every credential of the site, by field (never the values)."""
    names = [n.name for n in loaded.site.nodes()]
    return {
        c.field: salted_digest(loaded.secret(c.ref).get_secret_value())
        for c in rotation.credentials(loaded.site, names)
    }


def ldap_bind(loaded: LoadedSite, password: str) -> bool:
    conf = loaded.site.ldap
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=conf.ca_file)
    server = ldap3.Server(conf.server, port=conf.port, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=conf.bind_dn, password=password, raise_exceptions=False)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def api_status(address: str, cert: Path, key: Path, ca_file: Path) -> int:
    """The HTTP status of a Management API read with a client certificate (0: the handshake was refused)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.check_hostname = False
    ctx.load_cert_chain(str(cert), str(key))
    try:
        with httpx.Client(verify=ctx, timeout=10) as client:
            return client.get(f"https://{address}/api/admin/configuration/v1/global/1/").status_code
    except (httpx.TransportError, ssl.SSLError):
        return 0


def kill_at(lab: RunningLab, api: str, where: str) -> str:
    """Run the rebuild in a process of its own, kill -9 it at ``where``; returns what it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.rebuild_child", str(lab.site_file), where],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PREFECT_API_URL": api},
    )
    try:
        assert child.stdout is not None
        return _output_until(child.stdout.fileno(), STALLED, CHILD_WAIT_S)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)


def test_a_rebuild_killed_twice_ends_in_one_compliant_deployment_with_every_credential_rotated(
    lab: RunningLab, prefect_api: str, tmp_path: Path
) -> None:
    converged = run(lab, tmp_path / "converge")
    assert converged.compliant(), converged.problems
    loaded = lab.site()
    nodes = [n.name for n in loaded.site.nodes()]
    before = values(loaded)
    old_admin = loaded.secret(loaded.site.management_node.admin_password).get_secret_value()
    old_bind = loaded.secret(loaded.site.ldap.bind_password).get_secret_value()
    old_served = {n.name: served_certificate(str(n.address)) for n in loaded.site.nodes()}
    old_client = sorted((site_dir(loaded) / "client-certificates").glob("*.pem"))
    assert old_client, "the converged deployment issued client certificates"
    old_client_pems = [p.read_text() for p in old_client]
    writer = next(a.username for a in loaded.site.administrators if a.role == Role.READ_WRITE)
    old_dir = tmp_path / "old-client"
    old_dir.mkdir()
    for suffix in (".pem", ".key"):
        shutil.copy2(site_dir(loaded) / "client-certificates" / f"{writer}{suffix}", old_dir / f"{writer}{suffix}")
    ca_root = Path(loaded.site.pki.trusted_ca_files[0])
    mgr = str(loaded.site.management_node.address)
    assert api_status(mgr, old_dir / f"{writer}.pem", old_dir / f"{writer}.key", ca_root) == 200

    printed = kill_at(lab, prefect_api, "quarantine")
    assert STALLED in printed, printed[-3000:]
    record = rebuild_record.current(loaded)
    assert record is not None and not record.done("quarantine")
    printed = kill_at(lab, prefect_api, "rotation")
    assert STALLED in printed, printed[-3000:]
    record = rebuild_record.current(loaded)
    assert record is not None and record.done("quarantine") and not record.done("rotate")

    # the rerun that finishes it: the command line, as a responder runs it
    approvals = [arg for step in [*GATES, "rebuild.failback"] for arg in ("--approve", step)]
    attestations = [arg for control in ATTEST for arg in ("--attest", control)]
    done = cli(
        lab,
        "rebuild",
        "--site",
        str(lab.site_file),
        "--reason",
        "e2e: compromise declared",
        "--declared-by",
        APPROVER,
        "--approver",
        APPROVER,
        *approvals,
        *attestations,
        "--report",
        str(tmp_path / "rebuild"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = RebuildOutcome.model_validate_json((tmp_path / "rebuild" / "rebuild.json").read_text())
    assert outcome.rebuilt() and outcome.declared_by == APPROVER, outcome.problems
    assert f"rebuild {outcome.id} of {loaded.site.name}" in done.stdout
    assert rebuild_record.current(loaded) is None  # closed
    assert old_admin not in done.stdout + done.stderr and old_bind not in done.stdout + done.stderr

    # one deployment: every node's VM once, each old VM kept (off, disconnected, snapshotted) under its new name
    names = vm_names(lab)
    assert all(names.count(n) == 1 for n in nodes), names
    found = vms(lab)
    assert set(outcome.quarantined) == set(nodes)
    for node, kept in outcome.quarantined.items():
        assert kept == f"{node}-quarantine-{outcome.id}" and names.count(kept) == 1, names
        power, connected, snapshots = found[kept]  # type: ignore[misc]
        assert power == POWERED_OFF and connected == 0 and snapshots == [f"forensics-{outcome.id}"]
    assert not [n for n in names if "-quarantine-" in n and n not in outcome.quarantined.values()]

    # compliant again, proven by a verify run of its own
    verified = run_verify(lab, tmp_path / "verify")
    assert verified.compliant(), verified.problems

    # every credential: rotated where the rebuild rotates it, else kept (and the report says why)
    fresh = lab.site()
    listed = {c.field for c in rotation.credentials(fresh.site, nodes)}
    assert listed == secret_fields(fresh.site.model_dump(mode="json"))  # no reference of the site is left out
    for cred in rotation.credentials(fresh.site, nodes):
        now = fresh.secret(cred.ref).get_secret_value()
        assert same_value(before[cred.field], now) is (cred.action == rotation.KEPT), cred.field
    assert sorted(outcome.rotated) == sorted(c.field for c in rotation.to_rotate(fresh.site, nodes))
    assert {k.field for k in outcome.kept} == {
        c.field for c in rotation.credentials(fresh.site, nodes) if c.action == rotation.KEPT
    }

    # the old passwords are refused, the new ones work
    assert not ldap_bind(fresh, old_bind)
    assert ldap_bind(fresh, fresh.secret(fresh.site.ldap.bind_password).get_secret_value())
    new_admin = fresh.secret(fresh.site.management_node.admin_password).get_secret_value()
    assert new_admin != old_admin
    installed = read_report(tmp_path / "rebuild" / "pipeline" / "report.json")  # the fresh node took the new one
    logins = {(r.control, r.target): r.status for r in installed.results if r.control == "bootstrap.web-login"}
    assert logins == {("bootstrap.web-login", fresh.site.management_node.name): Status.PASS}, logins

    # new node certificates are served; the old ones and the old client certificates are revoked by the CA
    for node in fresh.site.nodes():
        assert served_certificate(str(node.address)) != old_served[node.name], node.name
    adapter = adapter_for(fresh)
    for der in old_served.values():
        pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
        assert adapter.revoked(pem)  # type: ignore[attr-defined]
    for pem in old_client_pems:
        assert adapter.revoked(pem)  # type: ignore[attr-defined]
    new_client = {p.name: p.read_text() for p in (site_dir(fresh) / "client-certificates").glob("*.pem")}
    assert new_client and not set(new_client.values()) & set(old_client_pems)
    # the rebuilt node refuses the old client certificate (revoked: its OCSP answer) and takes the new one
    assert api_status(mgr, old_dir / f"{writer}.pem", old_dir / f"{writer}.key", ca_root) in (0, 401, 403)
    folder = site_dir(fresh) / "client-certificates"
    assert api_status(mgr, folder / f"{writer}.pem", folder / f"{writer}.key", ca_root) == 200


def run_verify(lab: RunningLab, report: Path) -> PipelineOutcome:
    return run_pipeline(site_path=str(lab.site_file), mode="verify", report_dir=str(report))
