"""Stage `vms` (guide: Management Node deployment step 1, Reserving virtual machine resources, BIOS
configuration): deploy the Management Node OVA, reserve its resources, prepare its BIOS.
"""

from __future__ import annotations

from functools import partial

from securemode.catalogue import Stage
from securemode.engine import EnsureStep, StageSpec
from securemode.results import Result
from securemode.site_loader import LoadedSite
from securemode.stages.host import Check, run_checks
from securemode.vsphere import VSphereConnectError, host_target
from tasks.vms import attest_bios_password, ensure_boot_options, ensure_management_vm, ensure_reservations
from tasks.vms.bios import BOOT_ORDER, FORCE_SETUP, PASSWORD
from verifiers import vsphere as vv


def vms_checks(loaded: LoadedSite) -> list[tuple[str, str, Check]]:
    """Every vms control bound to its probe: the VM's controls on the VM, the IOPS budget on the host."""
    site = loaded.site
    node = site.management_node
    name = node.name
    reserved = set(site.vsphere.reserved_vlans)
    checks: list[tuple[str, str, Check]] = [
        ("vms.ova.deployed", name, lambda r: vv.vm_present("vms.ova.deployed", name, r, site.vsphere.datastore,
                                                           node.vm.cpus, node.vm.memory_mb)),
        ("vms.network.vlan", name, lambda r: vv.vm_vlan("vms.network.vlan", name, r,
                                                        site.vsphere.networks.vm.port_group, node.vlan, reserved)),
    ]
    for aspect in vv.vm.ALLOCATION_ASPECTS:
        control = f"vms.{aspect}"
        checks.append((control, name, partial(vv.vm_allocation, control, name, aspect=aspect,
                                                iops=node.vm.disk_iops_limit)))
    host = host_target(site)
    checks.append(("vms.disk.iops-budget", host,
                   lambda r: vv.iops_budget("vms.disk.iops-budget", host, r, site.vsphere.iops_budget)))
    checks.append((FORCE_SETUP, name, lambda r: vv.vm_boot_options(FORCE_SETUP, name, r, "force-setup", site.name,
                                                                   PASSWORD)))
    checks.append((BOOT_ORDER, name, lambda r: vv.vm_boot_options(BOOT_ORDER, name, r, "boot-order", site.name,
                                                                  PASSWORD)))
    checks.append((PASSWORD, name, lambda _r: vv.bios_password_attestation(PASSWORD, name, site.name)))
    return checks


def verify(loaded: LoadedSite) -> list[Result]:
    """One Result per vms control, from a fresh read-only session."""
    return run_checks(loaded, vms_checks(loaded), [])


_TRANSIENT = (VSphereConnectError,)

SPEC = StageSpec(
    stage=Stage.VMS,
    steps=(
        EnsureStep("management_vm", ensure_management_vm, transient_errors=_TRANSIENT),
        EnsureStep("reservations", ensure_reservations, transient_errors=_TRANSIENT),
        EnsureStep("boot_options", ensure_boot_options, transient_errors=_TRANSIENT),
        EnsureStep("bios_password", attest_bios_password),
    ),
    verify=verify,
)
