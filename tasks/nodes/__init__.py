"""Stage `nodes`: every Conferencing Node registered for a manual ESXi deployment, deployed from the OVA
the Management Node generates for it, hardened like the Management Node's VM, powered on, and waited
for until DEPLOYED and SYNCED.

Every step checks its inputs first and raises InputError before it changes anything; an existing node is
never redeployed.
"""

from securemode.tasks.nodes.deploy import ensure_node_vms
from securemode.tasks.nodes.hardening import (
    attest_node_bios_passwords,
    ensure_node_boot_options,
    ensure_node_reservations,
    ensure_nodes_powered_on,
)
from securemode.tasks.nodes.registration import ensure_registrations
from securemode.tasks.nodes.status import ensure_nodes_deployed

__all__ = [
    "attest_node_bios_passwords",
    "ensure_node_boot_options",
    "ensure_node_reservations",
    "ensure_node_vms",
    "ensure_nodes_deployed",
    "ensure_nodes_powered_on",
    "ensure_registrations",
]
