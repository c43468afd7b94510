"""Guide: Management Node deployment and bootstrap configuration (installation and security wizards)."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind
from securemode.results import JsonValue

SECTION = "Pexip Infinity Management Node deployment and bootstrap configuration"

# The security wizard table: (id, guide row text, answer). A row whose effect a client can observe is
# proved by that behaviour; the others by the node's own security.json (the bootstrap stage binds which).
SECURITY_WIZARD: tuple[tuple[str, str, JsonValue], ...] = (
    ("fips", "Enable FIPS 140-2 compliance mode", True),
    ("disable-admin", "Disable system administrator account", True),
    ("icmpv6-redirects", "Accept ICMPv6 redirects", False),
    ("drop-closed-ports", "Drop incoming packets to closed ports rather than reject", True),
    ("icmpv6-multicast-echo", "Accept multicast ICMPv6 echo requests", False),
    ("ipv6-dad", "Enable IPv6 Duplicate Address Detection", False),
    ("sip-udp-port", "SIP UDP listen port", "site:security_wizard.sip_udp_port"),
    ("sip-tcp-port", "SIP TCP listen port", "site:security_wizard.sip_tcp_port"),
    ("sip-tls-port", "SIP TLS listen port", "site:security_wizard.sip_tls_port"),
    ("web-sessions", "Active management web sessions", "site:security_wizard.max_web_sessions"),
    ("web-sessions-per-user", "Active per-user management web sessions",
     "site:security_wizard.max_web_sessions_per_user"),
    ("host-headers", "Enable management web validation of host headers", True),
    ("tls10", "Enable TLS 1.0", False),
    ("anon-dh", "Enable Anonymous DH for outbound SIP/TLS", False),
)

CONTROLS: tuple[Control, ...] = (
    Control(id="bootstrap.install.admin-password", title="Console admin password set", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="A password for this user must be set", target=TargetKind.MANAGEMENT_NODE,
            desired="site:management_node.admin_password"),
    Control(id="bootstrap.install.incident-reporting", title="Incident reporting off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Enable incident reporting is set to no", target=TargetKind.MANAGEMENT_NODE,
            desired=False, setting="global.error_reporting_enabled"),
    Control(id="bootstrap.install.statistics", title="Deployment and usage statistics off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Send deployment and usage statistics to Pexip is set to no",
            target=TargetKind.MANAGEMENT_NODE, desired=False, setting="global.enable_analytics"),
    Control(id="bootstrap.web-login", title="Administrator web login works with the configured credentials",
            stage=Stage.BOOTSTRAP, section=SECTION, guide_text="ensure that you can log in using the credentials "
            "configured in the installation wizard", target=TargetKind.MANAGEMENT_NODE, desired="HTTP 200 after login",
            flags=frozenset({Flag.VERIFY_ONLY})),
    *(
        Control(id=f"bootstrap.wizard.{cid}", title=f"Security wizard: {text}", stage=Stage.BOOTSTRAP,
                section=SECTION, guide_text=text, desired=answer,
                target=TargetKind.SIP_LISTENER if cid.startswith("sip-") else TargetKind.MANAGEMENT_NODE,
                setting=f"security_settings.{cid}",
                severity=ControlSeverity.HIGH if cid in {"tls10", "disable-admin", "fips"} else ControlSeverity.MEDIUM,
                flags=frozenset({Flag.IRREVERSIBLE, Flag.NEEDS_REBOOT}))
        for cid, text, answer in SECURITY_WIZARD
    ),
)
