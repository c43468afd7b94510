"""What the API read-back expects, computed by the verifier's own code from the catalogue and the site.

The ensure tasks have their own mapping from the site to API fields; the read-back never imports it,
so a wrong mapping in a task shows up as a FAIL here instead of being shared by fix and check. The
desired values come from the catalogue rows (``site:<path>`` references resolved against the site);
the few rows whose desired value is prose (SNMPv3, IPv6) are spelled out below, on purpose twice.
"""

from __future__ import annotations

from typing import Any

from securemode.catalogue import BY_ID, CONTROLS, TargetKind
from securemode.catalogue.platform import AUDITOR_PERMISSIONS, GLOBAL_SETTINGS, PORT_RANGES, REMOVED_PERMISSIONS
from securemode.results import JsonValue
from securemode.site import Location, NodeCommon, PortRange, Site
from securemode.targets import PLATFORM_TARGET as PLATFORM_TARGET

TRIMMED_ROLES = ("Read-only", "Read-write")
AUDITOR_ROLE = "Auditor"
Fields = dict[str, JsonValue]


def _site_value(root: object, path: str) -> Any:
    node: Any = root
    for part in path.split("."):
        node = getattr(node, part)
    return node


def _plain(value: Any) -> JsonValue:
    """A site value as the API shows it (addresses and enums as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _row_fields(site: Site, field: str, want: JsonValue) -> Fields:
    """One Global settings row: a field, a dict of fields, or a port range's ``start, end`` pair."""
    if isinstance(want, dict):
        return {name: _row_fields(site, name, value)[name] for name, value in want.items()}
    value: Any = want
    if isinstance(want, str) and want.startswith("site:"):
        value = _site_value(site, want.removeprefix("site:"))
    if isinstance(value, PortRange):
        start, end = (name.strip() for name in field.split(","))
        return {start: value.start, end: value.end}
    return {field: _plain(value)}


def global_fields(site: Site) -> dict[str, Fields]:
    """Control id → the ``global`` object's fields and their desired values (settings and port ranges)."""
    rows = [*GLOBAL_SETTINGS, *PORT_RANGES]
    return {f"platform.global.{cid}": _row_fields(site, field, want) for cid, _row, field, want in rows}


def location_fields(location: Location) -> dict[str, Fields]:
    """Control id → ``system_location`` field, from the catalogue's ``site:locations[].<attr>`` rows."""
    out: dict[str, Fields] = {}
    for control in CONTROLS:
        setting, want = control.setting or "", control.desired
        if control.target is TargetKind.LOCATION and isinstance(want, str) and want.startswith("site:locations[]."):
            attr = want.removeprefix("site:locations[].")
            out[control.id] = {setting.removeprefix("system_location."): _plain(getattr(location, attr))}
    return out


def snmp_v3_fields(site: Site) -> Fields:
    """The readable SNMPv3 fields (the two passwords are write-only)."""
    mode = BY_ID["platform.snmp.v3"].desired
    return {
        "snmp_mode": mode if isinstance(mode, str) else None,
        "snmp_username": site.snmp.username,
        "snmp_system_contact": site.snmp.system_contact,
        "snmp_system_location": site.snmp.system_location,
    }


def ipv6_fields(node: NodeCommon) -> Fields | None:
    """The node's IPv6 fields, or None when the site gives no IPv6 address (control not applicable)."""
    if node.ipv6_address is None:
        return None
    return {"ipv6_address": str(node.ipv6_address.ip), "ipv6_gateway": str(node.ipv6_gateway or "")}


def role_removals() -> list[tuple[str, str, str]]:
    """(control id, role, permission) for every permission the guide removes from a built-in role."""
    out = []
    for role in TRIMMED_ROLES:
        for permission in REMOVED_PERMISSIONS:
            slug = permission.lower().replace(" ", "-").removeprefix("may-")
            out.append((f"platform.role.{role.lower()}.no-{slug}", role, permission))
    return out


def auditor_permissions() -> tuple[str, ...]:
    return AUDITOR_PERMISSIONS


def dns_addresses(site: Site) -> list[str]:
    return [str(a) for a in site.dns_servers]


def ntp_addresses(site: Site) -> list[str]:
    return [s.address for s in site.ntp_servers]


def syslog_labels(site: Site) -> list[str]:
    return [f"{s.address}:{s.port}/{s.transport.value}" for s in site.syslog_servers]
