"""Stage `host`: the ESXi STIG subset the vSphere API reaches, the VM network, VLAN rules and lockdown.

Step order matters: the network and its security policy first, then options (audit storage before
storageEnable), services and NTP, the lockdown exception list, the engine account's least role (it drops the
engine's own right to change permissions, so it comes after every step that sets them), lockdown last.
"""

from securemode.tasks.host.engine_role import ensure_engine_role
from securemode.tasks.host.lockdown import ensure_lockdown_exceptions, ensure_lockdown_mode, lockdown_precondition
from securemode.tasks.host.network import ensure_port_groups, ensure_vswitch_security
from securemode.tasks.host.ntp import ensure_ntp
from securemode.tasks.host.options import ensure_advanced_options
from securemode.tasks.host.services import ensure_services

__all__ = [
    "ensure_advanced_options",
    "ensure_engine_role",
    "ensure_lockdown_exceptions",
    "ensure_lockdown_mode",
    "ensure_ntp",
    "ensure_port_groups",
    "ensure_services",
    "ensure_vswitch_security",
    "lockdown_precondition",
]
