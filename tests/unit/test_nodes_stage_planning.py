"""The nodes stage's planning and refusals, on facts built in memory: which node is complete, absent or
half-deployed; what is registered again and why; every bad input refused with its field and fix; the
bounded wait for DEPLOYED/SYNCED. No Management Node or host is contacted."""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from securemode.infra.ova.build import OvaSpec, ova_bytes
from securemode.paths import STATE_ENV
from securemode.problems import InputError
from securemode.site_loader import LoadedSite, load_site
from securemode.tasks.nodes.inputs import (
    address_problems,
    half_deployed_problems,
    registration_problems,
    space_problems,
    vlan_problems,
)
from securemode.tasks.nodes.ova_store import checked_ova, ova_path, store_ova, stored_ova
from securemode.tasks.nodes.registration import MANUAL_ESXI, plan_registrations, worker_body
from securemode.tasks.nodes.status import NodeNotDeployed, wait_until_ready, waiting_for
from securemode.tasks.nodes.survey import NodeFacts, NodeState
from securemode.tasks.vms.budget import budget_problems, projected_sum
from securemode.vsphere.ovf_import import ImportPlan, limit_disks
from securemode.vsphere.vmodl import vim
from tests.unit.sites import example_document, set_secrets, write_site

GIB = 1 << 30


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    return load_site(write_site(tmp_path, example_document()))


def _facts(
    loaded: LoadedSite,
    i: int = 0,
    *,
    registered: bool = False,
    vm: bool = False,
    ova: bool = False,
    status: str | None = None,
) -> NodeFacts:
    node = loaded.site.conferencing_nodes[i]
    reg: dict[str, Any] | None = (
        {
            "name": node.name,
            "resource_uri": f"/api/admin/configuration/v1/worker_vm/{i + 1}/",
            "deployment_type": MANUAL_ESXI,
        }
        if registered
        else None
    )
    return NodeFacts(
        index=i,
        node=node,
        registration=reg,
        vm=object() if vm else None,  # type: ignore[arg-type]
        ova=Path("/x.ova") if ova else None,
        status={"deploy_status": status, "sync_status": "SYNCED"} if status else None,
    )


def _ova(tmp_path: Path) -> bytes:
    return ova_bytes(
        OvaSpec(
            name="conf01",
            cpus=4,
            memory_mb=8192,
            product="Pexip Infinity Conferencing Node",
            payload=b"disk",
            properties=(("name", "conf01"),),
        )
    )


def test_a_node_is_complete_absent_or_half_deployed(loaded: LoadedSite) -> None:
    assert _facts(loaded, registered=True, vm=True).state is NodeState.COMPLETE
    assert _facts(loaded).state is NodeState.ABSENT
    assert _facts(loaded, vm=True).state is NodeState.VM_ONLY
    assert _facts(loaded, registered=True).state is NodeState.REGISTERED_ONLY
    # the OVA is deleted once its import completes: a VM next to a stored OVA is an unfinished import
    assert _facts(loaded, registered=True, vm=True, ova=True).state is NodeState.HALF_IMPORTED


def test_an_unfinished_import_that_runs_is_refused(loaded: LoadedSite) -> None:
    def half(power: str) -> NodeFacts:
        f = _facts(loaded, registered=True, vm=True, ova=True)
        return replace(f, vm=SimpleNamespace(runtime=SimpleNamespace(powerState=power)))  # type: ignore[arg-type]

    assert half_deployed_problems([half("poweredOff")]) == []
    [problem] = half_deployed_problems([half("poweredOn")])
    assert problem.field == "conferencing_nodes[0]" and "power VM conf01 off" in problem.fix


def test_only_absent_nodes_and_registrations_without_vm_or_ova_are_registered(loaded: LoadedSite) -> None:
    facts = [_facts(loaded, 0), _facts(loaded, 1, registered=True, vm=True)]
    planned, notes = plan_registrations(loaded, facts)
    assert [(c.control, c.target, c.setting, c.current) for p in planned for c in p.changes] == [
        ("nodes.registered", "conf01", "worker_vm", None)
    ]
    assert planned[0].changes[0].desired == {
        "deployment_type": MANUAL_ESXI,
        "address": "192.0.2.11",
        "location": "Oslo",
    }
    assert notes == []
    # registered, OVA kept, VM not imported yet: nothing to register, the import finishes it
    assert plan_registrations(loaded, [_facts(loaded, registered=True, ova=True)]) == ([], [])


def test_a_registration_without_vm_or_ova_is_named_and_re_created(loaded: LoadedSite) -> None:
    planned, notes = plan_registrations(loaded, [_facts(loaded, registered=True)])
    assert [(c.target, c.current) for p in planned for c in p.changes] == [
        ("conf01", {"deployment_type": MANUAL_ESXI, "vm": None, "ova": None})
    ]
    assert len(notes) == 1 and "conf01" in notes[0] and "re-created" in notes[0] and "only on create" in notes[0]


def test_half_deployed_nodes_the_stage_cannot_finish_are_refused_with_the_fix(loaded: LoadedSite) -> None:
    vm_only = half_deployed_problems([_facts(loaded, vm=True)])
    assert [(p.field, "never" in p.message, "remove it" in p.fix) for p in vm_only] == [
        ("conferencing_nodes[0]", True, True)
    ]
    elsewhere = half_deployed_problems([_facts(loaded, 1, registered=True, status="DEPLOYED")])
    assert [p.field for p in elsewhere] == ["conferencing_nodes[1]"] and "somewhere else" in elsewhere[0].message
    assert (
        half_deployed_problems(
            [_facts(loaded, registered=True, status="NOT_DEPLOYED"), _facts(loaded, 1, registered=True, vm=True)]
        )
        == []
    )


def test_what_a_registration_needs_is_checked_first(loaded: LoadedSite, tmp_path: Path) -> None:
    doc = example_document()
    for node in doc["conferencing_nodes"]:
        node.pop("gateway")
    doc["conferencing_nodes"][1].pop("node_password")
    (tmp_path / "other").mkdir()
    bare = load_site(write_site(tmp_path / "other", doc))
    problems = registration_problems(bare, [_facts(bare, 0), _facts(bare, 1)], {"conf01": "old-node"})
    assert sorted(p.field for p in problems) == [
        "conferencing_nodes[0].address",
        "conferencing_nodes[0].gateway",
        "conferencing_nodes[1].gateway",
        "conferencing_nodes[1].node_password",
    ]
    assert all(p.fix for p in problems)
    # a complete node needs nothing more
    assert registration_problems(bare, [_facts(bare, 0, registered=True, vm=True)], {}) == []


def test_a_node_at_the_hosts_own_address_is_refused(loaded: LoadedSite) -> None:
    problems = address_problems(loaded, {"192.0.2.12", "192.0.2.200"})
    assert [(p.field, p.message) for p in problems] == [
        ("conferencing_nodes[1].address", "192.0.2.12 is an address of the ESXi host itself")
    ]
    assert address_problems(loaded, {"192.0.2.200"}) == []


@pytest.mark.parametrize(("vlan", "why"), [(4095, "virtual guest tagging"), (1002, "reserved list")])
def test_a_node_vlan_4095_or_reserved_is_refused_when_the_site_loads(
    vlan: int, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secrets(monkeypatch)
    doc = example_document()
    doc["vsphere"]["reserved_vlans"] = [1002]
    doc["conferencing_nodes"][1]["vlan"] = vlan
    with pytest.raises(InputError) as refused:
        load_site(write_site(tmp_path, doc))
    assert [p.field for p in refused.value.problems if why in p.message] == ["conferencing_nodes[1].vlan"]


@pytest.mark.parametrize("clash", ["192.0.2.11", "192.0.2.10"], ids=["two nodes", "node and management node"])
def test_an_address_clash_between_nodes_is_refused_when_the_site_loads(
    clash: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secrets(monkeypatch)
    doc = example_document()
    doc["management_node"]["address"] = "192.0.2.10"
    doc["conferencing_nodes"][1]["address"] = clash
    with pytest.raises(InputError) as refused:
        load_site(write_site(tmp_path, doc))
    assert [p.field for p in refused.value.problems] == ["conferencing_nodes[1].address"]
    assert "already used" in refused.value.problems[0].message


def test_a_node_vlan_other_than_its_port_groups_is_refused(loaded: LoadedSite) -> None:
    vm_vlan = loaded.site.vsphere.networks.vm.vlan
    assert all(n.vlan == vm_vlan for n in loaded.site.conferencing_nodes) and vlan_problems(loaded) == []
    changed = loaded.site.model_copy(
        update={"conferencing_nodes": [loaded.site.conferencing_nodes[0].model_copy(update={"vlan": vm_vlan + 1})]}
    )
    problems = vlan_problems(LoadedSite(site=changed, path=loaded.path))
    assert [p.field for p in problems] == ["conferencing_nodes[0].vlan"]


def test_a_datastore_short_of_space_for_every_node_is_refused() -> None:
    assert space_problems("ds1", 100 * GIB, {"conf01": 40 * GIB, "conf02": 40 * GIB}) == []
    problems = space_problems("ds1", 70 * GIB, {"conf01": 40 * GIB, "conf02": 40 * GIB})
    assert [p.field for p in problems] == ["vsphere.datastore"]
    assert "70.0 GiB free" in problems[0].message and "80.0 GiB" in problems[0].message


def test_the_iops_budget_counts_every_node_with_its_ova_disks(loaded: LoadedSite) -> None:
    site = loaded.site
    budget = sum(n.vm.disk_iops_limit for n in site.nodes())
    assert budget_problems(projected_sum(site, [], 1), budget) == []
    two_disks = projected_sum(site, [], 1, {"conf01": 2})
    assert two_disks.by_vm["conf01"] == 2 * site.conferencing_nodes[0].vm.disk_iops_limit
    assert [p.field for p in budget_problems(two_disks, budget)] == ["vsphere.iops_budget"]


def test_the_worker_vm_asks_for_a_manual_esxi_deployment_with_the_sites_values(loaded: LoadedSite) -> None:
    body = worker_body(loaded, loaded.site.conferencing_nodes[0], "/api/admin/configuration/v1/system_location/1/")
    assert body["deployment_type"] == "MANUAL-ESXI6" and body["name"] == "conf01"
    assert (body["address"], body["gateway"], body["alternative_fqdn"]) == (
        "192.0.2.11",
        "192.0.2.1",
        "sip01.example.test",
    )
    assert body["password"] == "node-secret-Q3"


def test_the_stored_ova_is_private_and_checked(loaded: LoadedSite, tmp_path: Path) -> None:
    path = store_ova(loaded, "conf01", _ova(tmp_path))
    assert stored_ova(loaded, "conf01") == path
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    package = checked_ova(loaded, "conf01", "conferencing_nodes[0]")
    assert package.disks == 1 and package.capacity_bytes == GIB


def test_an_ova_whose_manifest_digest_does_not_match_is_refused_and_discarded(
    loaded: LoadedSite, tmp_path: Path
) -> None:
    good = tmp_path / "good.ova"
    good.write_bytes(_ova(tmp_path))
    bad = tmp_path / "bad.ova"
    with tarfile.open(good) as src, tarfile.open(bad, "w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith(".mf"):
                data = data.replace(data.split(b"= ")[1][:8], b"00000000", 1)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    store_ova(loaded, "conf01", bad.read_bytes())
    with pytest.raises(InputError) as refused:
        checked_ova(loaded, "conf01", "conferencing_nodes[0]")
    [problem] = refused.value.problems
    assert problem.field == "conferencing_nodes[0]" and "digest" in problem.message and "run again" in problem.fix
    assert not ova_path(loaded, "conf01").exists()


def test_the_wait_ends_when_every_node_is_deployed_and_synced() -> None:
    reads = iter(
        [
            {},
            {"conf01": {"deploy_status": "DEPLOYED", "sync_status": "UNKNOWN"}},
            {"conf01": {"deploy_status": "DEPLOYED", "sync_status": "SYNCED"}},
        ]
    )
    slept: list[float] = []
    wait_until_ready(lambda: next(reads), ["conf01"], timeout_s=10, poll_s=0.1, clock=lambda: 0.0, sleep=slept.append)
    assert slept == [0.1, 0.1]


def test_the_wait_is_bounded_and_names_the_late_node() -> None:
    now = [0.0]

    def tick(seconds: float) -> None:
        now[0] += seconds

    rows = {
        "conf01": {"deploy_status": "DEPLOYED", "sync_status": "SYNCED"},
        "conf02": {"deploy_status": "NOT_DEPLOYED", "sync_status": "UNKNOWN"},
    }
    with pytest.raises(NodeNotDeployed) as late:
        wait_until_ready(lambda: rows, ["conf01", "conf02"], timeout_s=5, poll_s=1, clock=lambda: now[0], sleep=tick)
    assert "conf02 (NOT_DEPLOYED/UNKNOWN)" in str(late.value) and "conf01" not in str(late.value)
    assert waiting_for(rows, ["conf01", "conf02", "conf03"]) == {
        "conf02": "NOT_DEPLOYED/UNKNOWN",
        "conf03": "not reported yet",
    }


def test_the_imported_vm_carries_its_iops_limit_from_the_start() -> None:
    """Set in the import spec, so even a VM whose upload was cut short keeps the host's IOPS budget."""
    spec = vim.VirtualMachineImportSpec(
        configSpec=vim.vm.ConfigSpec(
            deviceChange=[
                vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualDisk(key=1)),
                vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualVmxnet3(key=2)),
            ]
        )
    )
    assert limit_disks(ImportPlan(spec=spec, file_items=(), warnings=()), 1000) == 1
    disk, nic = (change.device for change in spec.configSpec.deviceChange)
    assert (disk.storageIOAllocation.limit, disk.storageIOAllocation.shares.level) == (1000, "normal")
    assert getattr(nic, "storageIOAllocation", None) is None
