"""What the site asks of the Management API, per control: the single mapping both the ensure tasks
and the read-back verifier use, so the fix and the check cannot drift apart (design principle 1).
"""

from __future__ import annotations

from typing import Any

from securemode.catalogue.platform import AUDITOR_PERMISSIONS, REMOVED_PERMISSIONS
from securemode.site import Location, NodeCommon, Site

PLATFORM_TARGET = "platform"
ROLES_TRIMMED = ("Read-only", "Read-write")
AUDITOR = "Auditor"
SNMP_MODE = "AUTHPRIV"


def global_settings(site: Site) -> dict[str, dict[str, Any]]:
    """Control id → the ``global`` fields it sets (guide: Global settings table)."""
    gs = site.global_settings
    cp = gs.call_protocols
    return {
        "platform.global.sip": {"enable_sip": cp.sip},
        "platform.global.h323": {"enable_h323": cp.h323},
        "platform.global.webrtc": {"enable_webrtc": cp.webrtc},
        "platform.global.rtmp": {"enable_rtmp": cp.rtmp},
        "platform.global.chat": {"enable_chat": False},
        "platform.global.outbound-calls": {"enable_dialout": False},
        "platform.global.connect-apps": {"enable_application_api": False},
        "platform.global.management-dscp": {"management_qos": gs.management_dscp},
        "platform.global.ssh": {"enable_ssh": False},
        "platform.global.ocsp": {"ocsp_state": "OVERRIDE", "ocsp_responder_url": gs.ocsp_responder_url},
        "platform.global.sip-tls-verify": {"sip_tls_cert_verify_mode": "ON"},
        "platform.global.http-external": {"legacy_api_http": False},
        "platform.global.login-banner": {"logon_banner": gs.login_banner},
        "platform.global.session-timeout": {"management_session_timeout": gs.session_timeout_minutes},
    }


def port_ranges(site: Site) -> dict[str, dict[str, Any]]:
    """Control id → port-range fields the guide asks to *verify* (no task changes them)."""
    gs = site.global_settings
    return {
        "platform.global.signalling-ports": {
            "signalling_ports_start": gs.signalling_ports.start,
            "signalling_ports_end": gs.signalling_ports.end,
        },
        "platform.global.media-ports": {
            "media_ports_start": gs.media_ports.start,
            "media_ports_end": gs.media_ports.end,
        },
    }


def role_removal_control(role: str, permission: str) -> str:
    slug = permission.lower().replace(" ", "-").removeprefix("may-")
    return f"platform.role.{role.lower()}.no-{slug}"


def removed_permissions() -> tuple[str, ...]:
    return REMOVED_PERMISSIONS


def auditor_permissions() -> tuple[str, ...]:
    return AUDITOR_PERMISSIONS


def location_fields(location: Location) -> dict[str, dict[str, Any]]:
    return {
        "platform.location.media-dscp": {"media_qos": location.media_dscp},
        "platform.location.signalling-dscp": {"signalling_qos": location.signalling_dscp},
        "platform.location.mtu": {"mtu": location.mtu},
    }


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
