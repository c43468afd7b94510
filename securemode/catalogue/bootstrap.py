"""Guide: Management Node deployment and bootstrap configuration (installation and security wizards)."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind
from securemode.results import JsonValue

SECTION = "Pexip Infinity Management Node deployment and bootstrap configuration"
_WIZ_TASK = "tasks.bootstrap.run_security_wizard"
_SETTINGS = ("verifiers.console.security_settings",)  # security.json from a snapshot, else MANUAL + evidence

# The security wizard table: (id, guide row text, answer, verifiers). A row whose effect a client can
# observe is proved by that behaviour; the others by the node's own security.json (see verifiers.console).
SECURITY_WIZARD: tuple[tuple[str, str, JsonValue, tuple[str, ...]], ...] = (
    ("fips", "Enable FIPS 140-2 compliance mode", True, ("verifiers.web.fips_ciphers",)),
    ("disable-admin", "Disable system administrator account", True, ("verifiers.console.admin_login_refused",)),
    ("icmpv6-redirects", "Accept ICMPv6 redirects", False, _SETTINGS),
    ("drop-closed-ports", "Drop incoming packets to closed ports rather than reject", True,
     ("verifiers.ports.check_closed_port_drops",)),
    ("icmpv6-multicast-echo", "Accept multicast ICMPv6 echo requests", False, _SETTINGS),
    ("ipv6-dad", "Enable IPv6 Duplicate Address Detection", False, _SETTINGS),
    ("sip-udp-port", "SIP UDP listen port", "site:security_wizard.sip_udp_port", _SETTINGS),
    ("sip-tcp-port", "SIP TCP listen port", "site:security_wizard.sip_tcp_port", _SETTINGS),
    ("sip-tls-port", "SIP TLS listen port", "site:security_wizard.sip_tls_port", _SETTINGS),
    ("web-sessions", "Active management web sessions", "site:security_wizard.max_web_sessions",
     ("verifiers.web.session_limit",)),
    ("web-sessions-per-user", "Active per-user management web sessions",
     "site:security_wizard.max_web_sessions_per_user", ("verifiers.web.session_limit_per_user",)),
    ("host-headers", "Enable management web validation of host headers", True, ("verifiers.web.host_header",)),
    ("tls10", "Enable TLS 1.0", False, ("verifiers.tls.check_protocol_refused",)),
    ("anon-dh", "Enable Anonymous DH for outbound SIP/TLS", False, _SETTINGS),
)

CONTROLS: tuple[Control, ...] = (
    Control(id="bootstrap.install.admin-password", title="Console admin password set", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="A password for this user must be set", target=TargetKind.MANAGEMENT_NODE,
            desired="site:management_node.admin_password", enforced_by="tasks.bootstrap.run_install_wizard",
            verified_by=("verifiers.console.admin_password_required",)),
    Control(id="bootstrap.install.incident-reporting", title="Incident reporting off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Enable incident reporting is set to no", target=TargetKind.MANAGEMENT_NODE,
            desired=False, setting="global.error_reporting_enabled", enforced_by="tasks.bootstrap.run_install_wizard",
            verified_by=("verifiers.web.api_field",)),
    Control(id="bootstrap.install.statistics", title="Deployment and usage statistics off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Send deployment and usage statistics to Pexip is set to no",
            target=TargetKind.MANAGEMENT_NODE, desired=False, setting="global.enable_analytics",
            enforced_by="tasks.bootstrap.run_install_wizard", verified_by=("verifiers.web.api_field",)),
    Control(id="bootstrap.web-login", title="Administrator web login works with the configured credentials",
            stage=Stage.BOOTSTRAP, section=SECTION, guide_text="ensure that you can log in using the credentials "
            "configured in the installation wizard", target=TargetKind.MANAGEMENT_NODE, desired="HTTP 200 after login",
            flags=frozenset({Flag.VERIFY_ONLY}), verified_by=("verifiers.web.login",)),
    *(
        Control(id=f"bootstrap.wizard.{cid}", title=f"Security wizard: {text}", stage=Stage.BOOTSTRAP,
                section=SECTION, guide_text=text, target=TargetKind.NODE, desired=answer,
                setting=f"security_settings.{cid}", enforced_by=_WIZ_TASK, verified_by=verifiers,
                severity=ControlSeverity.HIGH if cid in {"tls10", "disable-admin", "fips"} else ControlSeverity.MEDIUM,
                flags=frozenset({Flag.IRREVERSIBLE, Flag.NEEDS_REBOOT}))
        for cid, text, answer, verifiers in SECURITY_WIZARD
    ),
)
