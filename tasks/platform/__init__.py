"""Ensure-operations of the ``platform`` stage (guide: Global settings, Account roles, Securing network
services, SNMP, Location DSCP tags and MTU, IPv6)."""

from securemode.tasks.platform.global_settings import ensure_global_settings
from securemode.tasks.platform.ipv6 import ensure_ipv6
from securemode.tasks.platform.locations import ensure_locations
from securemode.tasks.platform.roles import ensure_roles
from securemode.tasks.platform.servers import ensure_dns, ensure_ntp, ensure_syslog
from securemode.tasks.platform.snmp import ensure_snmp

__all__ = [
    "ensure_dns",
    "ensure_global_settings",
    "ensure_ipv6",
    "ensure_locations",
    "ensure_ntp",
    "ensure_roles",
    "ensure_snmp",
    "ensure_syslog",
]
