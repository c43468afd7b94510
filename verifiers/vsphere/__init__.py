"""vSphere probes on a fresh read-only session of their own: the host's STIG settings, its networking,
each node VM's deployment, reservations and BIOS options, and a fallback VM's being off.
"""

from securemode.verifiers.vsphere.host import (
    advanced_option,
    engine_least_role,
    lockdown_exceptions,
    lockdown_mode,
    ntp,
    service_off,
)
from securemode.verifiers.vsphere.network import pnic_count, port_group_vlans, separate_pnics, vswitch_security
from securemode.verifiers.vsphere.power import check_powered_off
from securemode.verifiers.vsphere.reader import HostReader, VSphereConnection, readonly_session
from securemode.verifiers.vsphere.vm import (
    bios_password_attestation,
    iops_budget,
    vm_allocation,
    vm_boot_options,
    vm_present,
    vm_vlan,
)

__all__ = [
    "HostReader",
    "VSphereConnection",
    "advanced_option",
    "bios_password_attestation",
    "check_powered_off",
    "engine_least_role",
    "iops_budget",
    "lockdown_exceptions",
    "lockdown_mode",
    "ntp",
    "pnic_count",
    "port_group_vlans",
    "readonly_session",
    "separate_pnics",
    "service_off",
    "vm_allocation",
    "vm_boot_options",
    "vm_present",
    "vm_vlan",
    "vswitch_security",
]
