"""The stand-in OVA is a valid OVF 1.0 package with a stream-optimized VMDK, and imports with progress."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

from securemode.infra.ova import OvaSpec, build_ova
from securemode.infra.ova.vmdk import GD_AT_END, SECTOR, read_grain0
from securemode.infra.vcsim import Vcsim
from securemode.site_loader import LoadedSite
from securemode.vsphere import open_site_session
from securemode.vsphere.inventory import datacenter_of, find_datastore
from securemode.vsphere.ova import read_ova
from securemode.vsphere.ovf_import import import_spec, import_vapp


def test_ova_layout_manifest_and_disk(tmp_path: Path) -> None:
    spec = OvaSpec(name="standin", cpus=2, memory_mb=2048, capacity_gib=2, payload=b"hello grain")
    path = build_ova(tmp_path / "s.ova", spec)
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["standin.ovf", "standin.mf", "standin-disk1.vmdk"]
        data = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    manifest = data["standin.mf"].decode()
    for name in ("standin.ovf", "standin-disk1.vmdk"):
        assert f"SHA256({name})= {hashlib.sha256(data[name]).hexdigest()}" in manifest
    disk = data["standin-disk1.vmdk"]
    assert len(disk) % SECTOR == 0 and disk[:4] == b"KDMV"
    footer, grain = read_grain0(disk)
    assert footer.capacity == 2 * (1 << 30) // SECTOR and footer.gd_offset != GD_AT_END
    assert grain.startswith(b"hello grain") and grain.count(0) == len(grain) - len(b"hello grain")
    assert b'createType="streamOptimized"' in disk[SECTOR : 2 * SECTOR]
    package = read_ova(path)
    assert (package.disks, package.networks, package.vm_name) == (1, ("VM Network",), "standin")


def test_import_uploads_with_progress_over_the_pinned_connection(sim: Vcsim, lab: LoadedSite, tmp_path: Path) -> None:
    package = read_ova(build_ova(tmp_path / "p.ova", OvaSpec(name="progress-probe")))
    seen: list[int] = []
    with open_site_session(lab) as session:
        host = session.host()
        datastore = find_datastore(host, "LocalDS_0")
        plan = import_spec(session, package, vm_name="progress-probe", pool=host.parent.resourcePool,
                           datastore=datastore, network=None)
        assert [item.path for item in plan.file_items] == ["progress-probe-disk1.vmdk"]
        vm = import_vapp(session, package, plan, pool=host.parent.resourcePool, folder=datacenter_of(host).vmFolder,
                         host=host, progress=seen.append)
        try:
            assert vm.name == "progress-probe"
            assert seen[-1] == 100 and seen == sorted(seen) and len(seen) >= 2
        finally:
            vm.Destroy_Task()


def test_the_twins_conferencing_node_ova_imports_with_its_bootstrap_properties(sim: Vcsim, lab: LoadedSite,
                                                                              tmp_path: Path) -> None:
    """What the Management Node twin answers a manual-ESXi worker_vm create with is an OVA the host imports."""
    from securemode.infra.twin.api.deployment import ova

    values = {"name": "conf-ova", "hostname": "conf-ova", "domain": "lab.test", "address": "10.213.9.11",
              "netmask": "255.255.255.0", "gateway": "10.213.9.1", "node_type": "CONFERENCING", "vm_cpu_count": "4",
              "vm_system_memory": "4096", "ipv6_address": "", "ipv6_gateway": "",
              "management_node_address": "10.213.9.10", "system_location": "Lab", "registration_token": "t0k"}
    path = tmp_path / "conf-ova.ova"
    path.write_bytes(ova(values))
    package = read_ova(path)
    assert 'ovf:key="management_node_address" ovf:type="string" ovf:value="10.213.9.10"' in package.descriptor
    with open_site_session(lab) as session:
        host = session.host()
        plan = import_spec(session, package, vm_name="conf-ova", pool=host.parent.resourcePool,
                           datastore=find_datastore(host, "LocalDS_0"), network=None)
        vm = import_vapp(session, package, plan, pool=host.parent.resourcePool, folder=datacenter_of(host).vmFolder,
                         host=host, progress=lambda _pct: None)
        try:
            assert vm.name == "conf-ova"
        finally:
            vm.Destroy_Task()
