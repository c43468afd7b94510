"""Stage `vms`: the Management Node deployed from its OVA, its resources reserved, its BIOS prepared.

Every step first checks its inputs (datastore, port group, VLAN, OVA, IOPS budget) and raises
InputError before it changes anything.
"""

from securemode.tasks.vms.bios import attest_bios_password, ensure_boot_options
from securemode.tasks.vms.deploy import ensure_management_vm
from securemode.tasks.vms.inputs import VmsInputs, check_vms_inputs
from securemode.tasks.vms.reservations import ensure_reservations

__all__ = [
    "VmsInputs",
    "attest_bios_password",
    "check_vms_inputs",
    "ensure_boot_options",
    "ensure_management_vm",
    "ensure_reservations",
]
