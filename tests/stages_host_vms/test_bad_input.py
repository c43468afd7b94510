"""Bad input stops a stage with one clear InputError before anything changes; lockdown waits for its
precondition and its approval; TLS trust fails closed."""

from __future__ import annotations

import copy
import io
import ssl
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from securemode.engine import EngineContext, NoApprovals, PreApproved
from securemode.flows.stages import host as host_stage
from securemode.flows.stages import nodes as nodes_stage
from securemode.flows.stages import vms as vms_stage
from securemode.infra.ova import OvaSpec, build_ova
from securemode.infra.vcsim import Vcsim, VcsimOptions, start_vcsim
from securemode.problems import InputError
from securemode.results import Status
from securemode.site_loader import LoadedSite
from securemode.vsphere import VSphereLoginError, VSphereTrustError, open_site_session, wait_for_task
from securemode.vsphere.vmodl import vim
from tests.stage_steps import run_steps
from tests.stages_host_vms.dump import full_dump
from tests.stages_host_vms.lab import SECRETS, lab_document, lab_environment, side_session, write_site


@pytest.fixture(scope="module")
def sim(vcsim_binary: Path) -> Iterator[Vcsim]:
    """One VM of the simulator's own (ha-host_VM0, a disk without an IOPS limit) sits on the host."""
    simulator = start_vcsim(VcsimOptions(vms=1), binary=vcsim_binary)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def base(sim: Vcsim, lab: LoadedSite) -> dict[str, Any]:
    """The host stage applied (no lockdown: not approved) and VM0's disk limited, so only each test's fault shows."""
    run_steps(host_stage.SPEC, lab, apply=True)
    with side_session(sim) as si:
        vm = _vm0(si)
        _limit_vm0(vm, 500)
    return lab_document(sim, name=lab.site.name)


def _vm0(si: Any) -> Any:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(v for v in view.view if v.name == "ha-host_VM0")
    finally:
        view.Destroy()


def _limit_vm0(vm: Any, limit: int) -> None:
    disk = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
    disk.storageIOAllocation = disk.storageIOAllocation or vim.StorageResourceManager.IOAllocationInfo()
    disk.storageIOAllocation.limit = limit
    wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[
        vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)])), "limit")


def _site(tmp_path: Path, doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch, sim: Vcsim) -> LoadedSite:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SM_VSPHERE_PASSWORD", sim.password)
    return write_site(tmp_path, doc, ova=False)


def _refuse(loaded: LoadedSite, stage: Any, apply: bool = True) -> InputError:
    with pytest.raises(InputError) as caught:
        run_steps(stage.SPEC, loaded, apply=apply)
    return caught.value


def _refused(sim: Vcsim, loaded: LoadedSite, stage: Any, apply: bool = True) -> InputError:
    """The stage raises InputError and the simulator is exactly as before (full property dump)."""
    with side_session(sim) as si:
        before = full_dump(si)
        error = _refuse(loaded, stage, apply)
        assert full_dump(si) == before, "an InputError came after a change"
    return error


def _tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _good_members(tmp_path: Path) -> list[tuple[str, bytes]]:
    with tarfile.open(build_ova(tmp_path / "good.ova", OvaSpec(name="m")), "r:") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def _ova_variants(tmp_path: Path) -> dict[str, Path]:
    ovf, mf, disk = _good_members(tmp_path)
    no_vs = ovf[1].replace(b"<VirtualSystem", b"<Other").replace(b"</VirtualSystem>", b"</Other>")
    junk = tmp_path / "junk.ova"
    junk.write_bytes(b"\x00not an archive" * 100)
    return {
        "not a tar": junk,
        "descriptor not first": _tar(tmp_path / "order.ova", [disk, ovf, mf]),
        "descriptor not XML": _tar(tmp_path / "xml.ova", [(ovf[0], b"<Envelope><unclosed>"), disk]),
        "no VirtualSystem": _tar(tmp_path / "novs.ova", [(ovf[0], no_vs), disk]),
        "disk missing": _tar(tmp_path / "nodisk.ova", [ovf, mf]),
        "manifest mismatch": _tar(tmp_path / "mf.ova", [ovf, mf, (disk[0], disk[1][:-1] + b"\x01")]),
        "disk not a sparse VMDK": _tar(tmp_path / "flat.ova", [ovf, (disk[0], b"\0" * len(disk[1]))]),
        "DTD in descriptor": _tar(tmp_path / "dtd.ova", [(ovf[0], b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + ovf[1]), disk]),
    }


def test_every_broken_ova_is_refused_before_any_change(sim: Vcsim, base: dict[str, Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with side_session(sim) as si:
        before = full_dump(si)
        for case, path in _ova_variants(tmp_path).items():
            doc = copy.deepcopy(base)
            doc["management_node"]["ova"] = str(path)
            error = _refuse(_site(tmp_path / case.replace(" ", "-"), doc, monkeypatch, sim), vms_stage)
            fields = [p.field for p in error.problems]
            assert fields == ["management_node.ova"], (case, error.render())
            assert str(path) in error.render() and "Fix:" in error.render()
        assert full_dump(si) == before, "a refused OVA changed the simulator"


def test_missing_datastore_is_refused_in_plan_and_run(sim: Vcsim, base: dict[str, Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    doc = copy.deepcopy(base)
    doc["vsphere"]["datastore"] = "NoSuchStore"
    build_ova(tmp_path / "mgr.ova")
    loaded = _site(tmp_path, doc, monkeypatch, sim)
    for apply in (False, True):
        error = _refused(sim, loaded, vms_stage, apply=apply)
        problem = next(p for p in error.problems if p.field == "vsphere.datastore")
        assert "NoSuchStore" in problem.message and "LocalDS_0" in problem.fix


def test_iops_budget_is_checked_before_any_change(sim: Vcsim, base: dict[str, Any], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    build_ova(tmp_path / "mgr.ova")
    loaded = _site(tmp_path, copy.deepcopy(base), monkeypatch, sim)
    with side_session(sim) as si:
        vm = _vm0(si)
        try:
            _limit_vm0(vm, -1)
            error = _refused(sim, loaded, vms_stage)
            assert [p.field for p in error.problems] == ["vsphere.iops_budget"]
            assert "ha-host_VM0/" in error.problems[0].message and "unbounded" in error.problems[0].message
            _limit_vm0(vm, 7500)  # 7500 + mgr01 1000 + two conferencing nodes 1000 each > 10000
            error = _refused(sim, loaded, vms_stage)
            assert [p.field for p in error.problems] == ["vsphere.iops_budget"]
            assert "add up to 10500" in error.problems[0].message and "budget of 10000" in error.problems[0].message
        finally:
            _limit_vm0(vm, 500)


def test_node_vlan_must_match_its_port_group(sim: Vcsim, base: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    doc = copy.deepcopy(base)
    doc["management_node"]["vlan"] = 30
    build_ova(tmp_path / "mgr.ova")
    error = _refused(sim, _site(tmp_path, doc, monkeypatch, sim), vms_stage)
    assert [p.field for p in error.problems] == ["management_node.vlan"]


def test_a_conferencing_node_at_the_hosts_own_address_is_refused_before_any_change(
        sim: Vcsim, base: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the nodes stage's plan (no Management Node answers here: the plan says so and goes on from the
    host alone), the host's own address on a conferencing node is refused, naming the field."""
    doc = copy.deepcopy(base)
    doc["management_node"]["address"] = "127.0.0.3"  # nothing listens there: refused at once
    doc["conferencing_nodes"][0]["address"] = sim.host
    error = _refused(sim, _site(tmp_path, doc, monkeypatch, sim), nodes_stage, apply=False)
    assert [(p.field, p.message) for p in error.problems] == [
        ("conferencing_nodes[0].address", f"{sim.host} is an address of the ESXi host itself")]


def test_a_vm_named_as_a_node_without_its_registration_is_refused_with_the_fix(
        sim: Vcsim, base: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A VM carrying a conferencing node's name with no worker_vm behind it (none here: no Management Node
    answers) is half-deployed in a way the stage cannot finish: named, with the fix, before any change."""
    doc = copy.deepcopy(base)
    doc["management_node"]["address"] = "127.0.0.3"
    loaded = _site(tmp_path, doc, monkeypatch, sim)
    with side_session(sim) as si:
        vm = _vm0(si)
        wait_for_task(vm.Rename_Task("conf02"), "rename")
        try:
            error = _refused(sim, loaded, nodes_stage, apply=False)
        finally:
            wait_for_task(vm.Rename_Task("ha-host_VM0"), "rename back")
    [problem] = error.problems
    assert problem.field == "conferencing_nodes[1]" and "no worker_vm conf02" in problem.message
    assert "remove it from the host" in problem.fix


@pytest.mark.parametrize(("path", "value", "field"), [
    (("vm", "pnics"), ["vmnic7"], "vsphere.networks.vm.pnics"),
    (("management", "vlan"), 10, "vsphere.networks.management.vlan"),
    (("management", "pnics"), ["vmnic1"], "vsphere.networks.management.pnics"),
    (("management", "port_group"), "Mgmt", "vsphere.networks.management.port_group"),
])
def test_host_network_input_is_refused_before_any_change(sim: Vcsim, base: dict[str, Any], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, path: tuple[str, str],
                                                         value: Any, field: str) -> None:
    doc = copy.deepcopy(base)
    doc["vsphere"]["networks"][path[0]][path[1]] = value
    if path == ("management", "pnics"):
        doc["vsphere"]["networks"]["vm"]["pnics"] = ["vmnic0"]
    error = _refused(sim, _site(tmp_path, doc, monkeypatch, sim), host_stage)
    assert field in [p.field for p in error.problems], error.render()


def test_lockdown_waits_for_its_precondition_and_approval(sim: Vcsim, base: dict[str, Any], lab: LoadedSite) -> None:
    approved = PreApproved({"host.lockdown"}, who="test-engineer")
    with side_session(sim) as si:
        content = si.RetrieveContent()
        host = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True).view[0]
        access = host.configManager.hostAccessManager
        access.UpdateLockdownExceptions(users=[])
        ctx = EngineContext(site=lab, apply=True, gate=approved)
        changes = host_stage.SPEC.step("lockdown").run(ctx)
        assert [c.applied for c in changes] == [False]
        assert ctx.approvals == [] and "precondition not met" in ctx.skipped[0]
        assert f"'{sim.username}'" in ctx.skipped[0]
        access.UpdateLockdownExceptions(users=[sim.username])
        ctx = EngineContext(site=lab, apply=True, gate=NoApprovals())
        assert [c.applied for c in host_stage.SPEC.step("lockdown").run(ctx)] == [False]
        assert ctx.skipped[0].startswith("host.lockdown: not approved")
        assert host.config.lockdownMode == "lockdownDisabled"


def _unrelated_ca() -> bytes:
    """A real CA certificate that did not sign the simulator's certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unrelated test CA")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_trust_fails_closed(sim: Vcsim, lab: LoadedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vs = lab.site.vsphere
    pinned_wrong = vs.model_copy(update={"trust": vs.trust.model_copy(update={"fingerprint_sha256": "ab" * 32})})
    with pytest.raises(VSphereTrustError) as caught, open_site_session(
            LoadedSite(site=lab.site.model_copy(update={"vsphere": pinned_wrong}), path=lab.path)):
        pass
    assert "not the pinned one" in str(caught.value) and sim.password not in str(caught.value)
    ca = tmp_path / "sim.pem"
    ca.write_text(ssl.get_server_certificate((sim.host, sim.port)))
    by_ca = vs.model_copy(update={"trust": vs.trust.model_validate({"ca_file": str(ca)})})
    with open_site_session(LoadedSite(site=lab.site.model_copy(update={"vsphere": by_ca}), path=lab.path)) as s:
        assert s.api_type == "HostAgent"
    wrong_ca = tmp_path / "unrelated-ca.pem"
    wrong_ca.write_bytes(_unrelated_ca())
    by_wrong = vs.model_copy(update={"trust": vs.trust.model_validate({"ca_file": str(wrong_ca)})})
    with pytest.raises(VSphereTrustError), open_site_session(
            LoadedSite(site=lab.site.model_copy(update={"vsphere": by_wrong}), path=lab.path)):
        pass
    monkeypatch.setenv("SM_VSPHERE_PASSWORD", "wrong-password-x")
    with pytest.raises(VSphereLoginError), open_site_session(lab):
        pass


def test_single_pnic_host_fails_the_pnic_checks_and_is_refused(vcsim_binary: Path, base: dict[str, Any],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = start_vcsim(VcsimOptions(vms=0, pnics=1), binary=vcsim_binary)
    try:
        doc = copy.deepcopy(base)
        doc["vsphere"].update(port=one.port, trust={"fingerprint_sha256": one.tls_fingerprint})
        monkeypatch.setenv("SM_VSPHERE_PASSWORD", one.password)
        loaded = write_site(tmp_path, doc, ova=False)
        results = {r.control: r for r in host_stage.verify(loaded)}
        assert results["host.pnics.count"].status.value == "FAIL"
        assert results["host.pnics.count"].observed == ["vmnic0"]
        assert results["host.pnics.separate"].status.value == "FAIL"
        error = _refused(one, loaded, host_stage)
        assert "vsphere.networks.vm.pnics" in [p.field for p in error.problems]
    finally:
        one.stop()


def test_root_on_the_exception_list_fails_with_the_dedicated_account_fix(sim: Vcsim, base: dict[str, Any],
                                                                          lab: LoadedSite) -> None:
    assert sim.username != "root" and lab.site.vsphere.username == sim.username  # the dedicated account
    with side_session(sim) as si:
        content = si.RetrieveContent()
        host = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True).view[0]
        access = host.configManager.hostAccessManager
        access.UpdateLockdownExceptions(users=[sim.username, "root"])
        try:
            result = next(r for r in host_stage.verify(lab) if r.control == "host.stig.ESXI-80-000201")
            assert result.status is Status.FAIL
            assert "root is a lockdown exception user" in result.message
            assert "create a dedicated account with the least role" in result.message
        finally:
            access.UpdateLockdownExceptions(users=[sim.username])


def test_a_site_whose_engine_account_is_root_is_warned_and_never_locks_down(vcsim_binary: Path,
                                                                            tmp_path: Path) -> None:
    root_sim = start_vcsim(VcsimOptions(vms=0, username="root"), binary=vcsim_binary)
    try:
        with lab_environment(root_sim, tmp_path / "state"):
            loaded = write_site(tmp_path, lab_document(root_sim, name="lab-root-account"), ova=False)
            warning = [p for p in loaded.warnings if p.field == "vsphere.username"]
            assert len(warning) == 1 and "root on the lockdown exception list" in warning[0].message
            with side_session(root_sim) as si:
                content = si.RetrieveContent()
                host = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True).view[0]
                host.configManager.hostAccessManager.UpdateLockdownExceptions(users=["root"])
                ctx = EngineContext(site=loaded, apply=True, gate=PreApproved({"host.lockdown"}, who="tester"))
                host_stage.SPEC.step("lockdown").run(ctx)
                assert "precondition not met" in ctx.skipped[0] and "dedicated account" in ctx.skipped[0]
                assert host.config.lockdownMode == "lockdownDisabled"
    finally:
        root_sim.stop()
