"""What the site asks of the Management API, per control: the single mapping both the ensure tasks
and the read-back verifier use, so the fix and the check cannot drift apart (design principle 1).
"""

from __future__ import annotations

from typing import Any

from securemode.catalogue import Stage, TargetKind, controls_for
from securemode.catalogue.platform import AUDITOR_PERMISSIONS, GLOBAL_SETTINGS, PORT_RANGES, REMOVED_PERMISSIONS
from securemode.results import JsonValue
from securemode.site import Location, NodeCommon, PortRange, Site
from securemode.targets import PLATFORM_TARGET as PLATFORM_TARGET

ROLES_TRIMMED = ("Read-only", "Read-write")
AUDITOR = "Auditor"
SNMP_MODE = "AUTHPRIV"
LOCATION_SETTING, LOCATION_VALUE = "system_location.", "site:locations[]."


def _resolve(site: Site, want: JsonValue) -> Any:
    """A catalogue desired value with its ``site:<path>`` references read from the site."""
    if isinstance(want, str) and want.startswith("site:"):
        node: Any = site
        for part in want.removeprefix("site:").split("."):
            node = getattr(node, part)
        return node
    if isinstance(want, dict):
        return {key: _resolve(site, value) for key, value in want.items()}
    return want


def _fields(site: Site, field: str, want: JsonValue) -> dict[str, Any]:
    """The API fields of one catalogue row: a single field, a dict of fields, or a port range's start/end."""
    value = _resolve(site, want)
    if isinstance(value, dict):
        return value
    if isinstance(value, PortRange):
        start, end = (name.strip() for name in field.split(","))
        return {start: value.start, end: value.end}
    return {field: value}


def global_settings(site: Site) -> dict[str, dict[str, Any]]:
    """Control id → the ``global`` fields it sets, from the catalogue's Global settings table."""
    return {f"platform.global.{cid}": _fields(site, field, want) for cid, _row, field, want in GLOBAL_SETTINGS}


def port_ranges(site: Site) -> dict[str, dict[str, Any]]:
    """Control id → port-range fields the guide asks to *verify* (no task changes them)."""
    return {f"platform.global.{cid}": _fields(site, field, want) for cid, _row, field, want in PORT_RANGES}


def role_removal_control(role: str, permission: str) -> str:
    slug = permission.lower().replace(" ", "-").removeprefix("may-")
    return f"platform.role.{role.lower()}.no-{slug}"


def removed_permissions() -> tuple[str, ...]:
    return REMOVED_PERMISSIONS


def auditor_permissions() -> tuple[str, ...]:
    return AUDITOR_PERMISSIONS


def location_fields(location: Location) -> dict[str, dict[str, Any]]:
    """Control id → the ``system_location`` field it sets, from the catalogue's location rows."""
    return {c.id: {c.setting.removeprefix(LOCATION_SETTING): getattr(location, str(c.desired).removeprefix(
        LOCATION_VALUE))} for c in controls_for([Stage.PLATFORM]) if c.target is TargetKind.LOCATION and c.setting}


def snmp_v3_fields(site: Site) -> dict[str, Any]:
    """The readable SNMPv3 fields (the two passwords are write-only)."""
    snmp = site.snmp
    return {
        "snmp_mode": SNMP_MODE,
        "snmp_username": snmp.username,
        "snmp_system_contact": snmp.system_contact,
        "snmp_system_location": snmp.system_location,
    }


def snmp_fields(site: Site, community: str) -> dict[str, dict[str, Any]]:
    """Readable SNMP fields per control; ``community`` is the resolved (secret) value of snmp.community."""
    return {"platform.snmp.v3": snmp_v3_fields(site), "platform.snmp.v2c-refused": {"snmp_community": community}}


def ipv6_fields(node: NodeCommon) -> dict[str, Any] | None:
    """The node's IPv6 fields, or None when the site gives no IPv6 address (control not applicable).

    GUESS: the API takes the address without its prefix length (the twin validates an address).
    """
    if node.ipv6_address is None:
        return None
    return {
        "ipv6_address": str(node.ipv6_address.ip),
        "ipv6_gateway": str(node.ipv6_gateway) if node.ipv6_gateway else "",
    }


def dns_addresses(site: Site) -> list[str]:
    return [str(a) for a in site.dns_servers]


def ntp_addresses(site: Site) -> list[str]:
    return [s.address for s in site.ntp_servers]


def syslog_keys(site: Site) -> list[tuple[str, int, str]]:
    return [(s.address, s.port, s.transport.value) for s in site.syslog_servers]
