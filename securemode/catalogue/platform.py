"""Guide: Global settings, Account roles, Securing network services, SNMP, Location DSCP tags and MTU, IPv6."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind
from securemode.results import JsonValue

GLOBAL = "Global settings"
ROLES = "Account roles"
NET = "Securing network services"

# (id, guide row, API field, desired)
GLOBAL_SETTINGS: tuple[tuple[str, str, str, JsonValue], ...] = (
    ("sip", "Enable SIP", "enable_sip", "site:global_settings.call_protocols.sip"),
    ("h323", "Enable H.323", "enable_h323", "site:global_settings.call_protocols.h323"),
    ("webrtc", "Enable WebRTC", "enable_webrtc", "site:global_settings.call_protocols.webrtc"),
    ("rtmp", "Enable RTMP", "enable_rtmp", "site:global_settings.call_protocols.rtmp"),
    ("chat", "Enable chat", "enable_chat", False),
    ("outbound-calls", "Enable outbound calls", "enable_dialout", False),
    ("connect-apps", "Enable support for Pexip Infinity Connect and Mobile App", "enable_application_api", False),
    ("management-dscp", "DSCP value for management traffic", "management_qos", "site:global_settings.management_dscp"),
    ("ssh", "Enable SSH", "enable_ssh", False),
    ("ocsp", "OCSP state and OCSP responder URL", "ocsp_state, ocsp_responder_url",
     {"ocsp_state": "OVERRIDE", "ocsp_responder_url": "site:global_settings.ocsp_responder_url"}),
    ("sip-tls-verify", "SIP TLS certificate verification mode", "sip_tls_cert_verify_mode", "ON"),
    ("http-external", "Enable HTTP access for external systems", "legacy_api_http", False),
    ("login-banner", "Login banner text", "logon_banner", "site:global_settings.login_banner"),
    ("session-timeout", "Management web interface session timeout", "management_session_timeout",
     "site:global_settings.session_timeout_minutes"),
)
PORT_RANGES: tuple[tuple[str, str, str, str], ...] = (
    ("signalling-ports", "Signaling port range start and end", "signalling_ports_start, signalling_ports_end",
     "site:global_settings.signalling_ports"),
    ("media-ports", "Media port range start and end", "media_ports_start, media_ports_end",
     "site:global_settings.media_ports"),
)
REMOVED_PERMISSIONS = ("May view logs", "May generate system snapshot")
AUDITOR_PERMISSIONS = ("Is an administrator", "May use web interface", "May use API", "May view logs",
                       "May generate system snapshot")


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


CONTROLS: tuple[Control, ...] = (
    *(
        Control(id=f"platform.global.{cid}", title=f"Global setting: {row}", stage=Stage.PLATFORM, section=GLOBAL,
                guide_text=row, target=TargetKind.PLATFORM, desired=desired, setting=f"global.{field}")
        for cid, row, field, desired in GLOBAL_SETTINGS
    ),
    *(
        Control(id=f"platform.global.{cid}", title=f"Global setting verified: {row}", stage=Stage.PLATFORM,
                section=GLOBAL, guide_text=row, target=TargetKind.PLATFORM, desired=desired,
                setting=f"global.{field}", flags=frozenset({Flag.VERIFY_ONLY}))
        for cid, row, field, desired in PORT_RANGES
    ),
    *(
        Control(id=f"platform.role.{_slug(role)}.no-{_slug(perm).removeprefix('may-')}",
                title=f"{role} role lacks '{perm}'", stage=Stage.PLATFORM, section=ROLES,
                guide_text=f"Select the existing {role} role and remove the following permissions: {perm}",
                target=TargetKind.PLATFORM, desired=f"'{perm}' not in {role}.permissions",
                setting=f"role[{role}].permissions")
        for role in ("Read-only", "Read-write")
        for perm in REMOVED_PERMISSIONS
    ),
    Control(id="platform.role.auditor", title="Auditor role with exactly its five permissions", stage=Stage.PLATFORM,
            section=ROLES, guide_text="Create an Auditor role", target=TargetKind.PLATFORM,
            desired=list(AUDITOR_PERMISSIONS), setting="role[Auditor].permissions"),
    Control(id="platform.dns.servers", title="At least two DNS servers, on the Management Node and every location",
            stage=Stage.PLATFORM, section="DNS servers", guide_text="Configure at least two DNS servers",
            target=TargetKind.SERVER_OWNER, desired="site:dns_servers", setting="dns_server"),
    Control(id="platform.dns.answers", title="Each DNS server answers for the nodes' FQDNs", stage=Stage.PLATFORM,
            section="DNS servers", target=TargetKind.DNS_SERVER, desired="A records match node addresses",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="platform.ntp.servers", title="At least two NTP servers, each with a key, on every node",
            stage=Stage.PLATFORM, section="NTP servers", guide_text="Configure at least two NTP servers",
            target=TargetKind.SERVER_OWNER, desired="site:ntp_servers", setting="ntp_server",
            severity=ControlSeverity.HIGH),
    Control(id="platform.ntp.authenticated", title="NTP exchange authenticated with the server's key both ways",
            stage=Stage.PLATFORM, section="NTP servers", guide_text="The configuration for each NTP server must "
            "include key authentication credentials", target=TargetKind.NTP_SERVER,
            desired="valid MAC on the reply; wrong key refused", severity=ControlSeverity.HIGH),
    Control(id="platform.syslog.servers", title="At least one remote syslog server, on every node",
            stage=Stage.PLATFORM, section="Remote syslog servers", guide_text="Configure at least one remote syslog "
            "server", target=TargetKind.SERVER_OWNER, desired="site:syslog_servers", setting="syslog_server"),
    Control(id="platform.syslog.delivery", title="An audit event reaches every syslog receiver",
            stage=Stage.PLATFORM, section="Remote syslog servers", target=TargetKind.SYSLOG_SERVER,
            desired="event arrives within the bound", flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="platform.snmp.v3", title="SNMPv3 read-only (SHA/AES-128) answers with the site credentials",
            stage=Stage.PLATFORM, section="SNMP", guide_text="Set SNMP mode to SNMPv3 read-only",
            target=TargetKind.NODE, desired="AUTHPRIV", setting="snmp_mode", severity=ControlSeverity.HIGH),
    Control(id="platform.snmp.v2c-refused", title="SNMP v1/v2c gets no answer (public or the site community)",
            stage=Stage.PLATFORM, section="SNMP", guide_text="Change the SNMP community to something other than "
            "\"public\"", target=TargetKind.NODE, desired="no answer", setting="snmp_community",
            severity=ControlSeverity.HIGH),
    Control(id="platform.snmp.wrong-credentials", title="SNMPv3 with wrong credentials gets no data",
            stage=Stage.PLATFORM, section="SNMP", target=TargetKind.NODE, desired="no data",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="platform.location.media-dscp", title="Location DSCP for media", stage=Stage.PLATFORM,
            section="Location DSCP tags and MTU", guide_text="DSCP value for media is set to 51",
            target=TargetKind.LOCATION, desired="site:locations[].media_dscp", setting="system_location.media_qos"),
    Control(id="platform.location.signalling-dscp", title="Location DSCP for signalling", stage=Stage.PLATFORM,
            section="Location DSCP tags and MTU", guide_text="DSCP value for signaling is set to 40",
            target=TargetKind.LOCATION, desired="site:locations[].signalling_dscp",
            setting="system_location.signalling_qos"),
    Control(id="platform.location.mtu", title="Location MTU", stage=Stage.PLATFORM,
            section="Location DSCP tags and MTU", guide_text="We recommend a value of 1400 bytes",
            target=TargetKind.LOCATION, desired="site:locations[].mtu", setting="system_location.mtu"),
    Control(id="platform.ipv6", title="IPv6 address and gateway as the site gives them (optional)",
            stage=Stage.PLATFORM, section="IPv6 (optional)", guide_text="configure the IPv6 address and IPv6 gateway",
            target=TargetKind.NODE, desired="site:<node>.ipv6_address", setting="ipv6_address, ipv6_gateway",
            severity=ControlSeverity.LOW),
)
