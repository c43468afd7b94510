"""Guide: Management Node deployment and bootstrap configuration (installation and security wizards)."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind
from securemode.results import JsonValue

SECTION = "Pexip Infinity Management Node deployment and bootstrap configuration"
_WIZ_TASK = "tasks.bootstrap.run_security_wizard"
_SETTINGS = ("verifiers.console.security_settings",)

# The security wizard table: (id, guide row text, answer, extra behavioural verifiers).
SECURITY_WIZARD: tuple[tuple[str, str, JsonValue, tuple[str, ...]], ...] = (
    ("fips", "Enable FIPS 140-2 compliance mode", True, ("verifiers.tls.fips_ciphers",)),
    ("disable-admin", "Disable system administrator account", True, ("verifiers.ports.ssh_closed",)),
    ("icmpv6-redirects", "Accept ICMPv6 redirects", False, ()),
    ("drop-closed-ports", "Drop incoming packets to closed ports rather than reject", True,
     ("verifiers.ports.closed_port_drops",)),
    ("icmpv6-multicast-echo", "Accept multicast ICMPv6 echo requests", False, ()),
    ("ipv6-dad", "Enable IPv6 Duplicate Address Detection", False, ()),
    ("sip-udp-port", "SIP UDP listen port", "site:security_wizard.sip_udp_port", ()),
    ("sip-tcp-port", "SIP TCP listen port", "site:security_wizard.sip_tcp_port", ("verifiers.sip.options_tcp",)),
    ("sip-tls-port", "SIP TLS listen port", "site:security_wizard.sip_tls_port", ("verifiers.sip.options_tls",)),
    ("web-sessions", "Active management web sessions", "site:security_wizard.max_web_sessions",
     ("verifiers.web.session_limit",)),
    ("web-sessions-per-user", "Active per-user management web sessions",
     "site:security_wizard.max_web_sessions_per_user", ("verifiers.web.session_limit_per_user",)),
    ("host-headers", "Enable management web validation of host headers", True, ("verifiers.web.host_header",)),
    ("tls10", "Enable TLS 1.0", False, ("verifiers.tls.tls10_refused",)),
    ("anon-dh", "Enable Anonymous DH for outbound SIP/TLS", False, ("verifiers.tls.anon_dh_refused",)),
)

CONTROLS: tuple[Control, ...] = (
    Control(id="bootstrap.install.admin-password", title="Console admin password set", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="A password for this user must be set", target=TargetKind.MANAGEMENT_NODE,
            desired="site:management_node.admin_password", enforced_by="tasks.bootstrap.run_install_wizard",
            verified_by=("verifiers.web.login",)),
    Control(id="bootstrap.install.incident-reporting", title="Incident reporting off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Enable incident reporting is set to no", target=TargetKind.MANAGEMENT_NODE,
            desired=False, setting="global.error_reporting_enabled", enforced_by="tasks.bootstrap.run_install_wizard",
            verified_by=("verifiers.api.readback",)),
    Control(id="bootstrap.install.statistics", title="Deployment and usage statistics off", stage=Stage.BOOTSTRAP,
            section=SECTION, guide_text="Send deployment and usage statistics to Pexip is set to no",
            target=TargetKind.MANAGEMENT_NODE, desired=False, setting="global.enable_analytics",
            enforced_by="tasks.bootstrap.run_install_wizard", verified_by=("verifiers.api.readback",)),
    Control(id="bootstrap.web-login", title="Administrator web login works with the configured credentials",
            stage=Stage.BOOTSTRAP, section=SECTION, guide_text="ensure that you can log in using the credentials "
            "configured in the installation wizard", target=TargetKind.MANAGEMENT_NODE, desired="HTTP 200 after login",
            flags=frozenset({Flag.VERIFY_ONLY}), verified_by=("verifiers.web.login",)),
    *(
        Control(id=f"bootstrap.wizard.{cid}", title=f"Security wizard: {text}", stage=Stage.BOOTSTRAP,
                section=SECTION, guide_text=text, target=TargetKind.NODE, desired=answer,
                setting=f"security_settings.{cid}", enforced_by=_WIZ_TASK, verified_by=(*_SETTINGS, *extra),
                severity=ControlSeverity.HIGH if cid in {"tls10", "disable-admin", "fips"} else ControlSeverity.MEDIUM,
                flags=frozenset({Flag.IRREVERSIBLE, Flag.NEEDS_REBOOT}))
        for cid, text, answer, extra in SECURITY_WIZARD
    ),
)
