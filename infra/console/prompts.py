"""What the console says. The securitywizard rows and their bracketed defaults are the guide's own
words; everything else (first-login lines, password prompts, install-wizard labels and their order)
is a guess [?] modelled on the docs' list of install-wizard questions (reference §3.1).

The default shown in brackets is the node's current value: on a fresh node that is exactly what the
guide prints; on a node where the wizard already ran it is the earlier answer [?].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ADMIN_USER = "admin"

PASSWORD_MUST_BE_SET = "A password for this user must be set."
NEW_PASSWORD = "New password: "
RETYPE_PASSWORD = "Retype new password: "
PASSWORDS_DIFFER = "Sorry, passwords do not match."
PASSWORD_TOO_SHORT = "BAD PASSWORD: The password is shorter than 8 characters"
PASSWORD_UPDATED = "passwd: password updated successfully"

INSTALL_INTRO = "Enter the admin user password to permit the installation wizard to start."
SECURITY_INTRO = "Enter the admin user password to permit the security wizard to start."
ADMIN_PASSWORD = "[sudo] password for admin: "
BAD_PASSWORD = "Sorry, try again."
TOO_MANY_TRIES = "sudo: 3 incorrect password attempts"

INSTALL_BANNER = "Pexip Infinity installation wizard"
SECURITY_BANNER = "Pexip Infinity security wizard"
INSTALL_DONE = "Installation complete. The system will now reboot."
SECURITY_DONE = "Security settings saved. The system will now reboot to apply them."

MIN_PASSWORD_LENGTH = 8


def shell_prompt(hostname: str) -> str:
    return f"{ADMIN_USER}@{hostname}:~$ "


SHELL_HELP = (
    "Available commands:\n"
    "  securitywizard   run the security wizard (the system reboots afterwards)\n"
    "  exit, logout     end this session\n"
)

Kind = Literal["bool", "port", "limit"]


@dataclass(frozen=True)
class SecurityRow:
    """One securitywizard question: the SecuritySettings field it sets and how the guide prints it."""

    field: str
    label: str
    kind: Kind = "bool"
    default_prefix: str = ""
    note: str = ""

    def prompt(self, current: bool | int) -> str:
        shown = ("YES" if current else "NO") if self.kind == "bool" else str(current)
        return f"{self.label} ({self.default_prefix}{shown}): "


# In the guide's order; the FIPS row is the only one printed as "(default = NO)".
SECURITY_ROWS: tuple[SecurityRow, ...] = (
    SecurityRow("fips_mode", "Enable FIPS 140-2 compliance mode", default_prefix="default = "),
    SecurityRow("disable_admin_account", "Disable system administrator account",
                note="(this applies to SSH and console access)"),
    SecurityRow("accept_icmpv6_redirects", "Accept ICMPv6 redirects"),
    SecurityRow("drop_closed_ports", "Drop incoming packets to closed ports rather than reject"),
    SecurityRow("accept_multicast_icmpv6_echo", "Accept multicast ICMPv6 echo requests"),
    SecurityRow("ipv6_dad", "Enable IPv6 Duplicate Address Detection"),
    SecurityRow("sip_udp_port", "SIP UDP listen port", "port"),
    SecurityRow("sip_tcp_port", "SIP TCP listen port", "port"),
    SecurityRow("sip_tls_port", "SIP TLS listen port", "port"),
    SecurityRow("max_web_sessions", "Active management web sessions", "limit"),
    SecurityRow("max_web_sessions_per_user", "Active per-user management web sessions", "limit"),
    SecurityRow("validate_host_headers", "Enable management web validation of host headers"),
    SecurityRow("enable_tls10", "Enable TLS 1.0"),
    SecurityRow("enable_anon_dh", "Enable Anonymous DH for outbound SIP/TLS"),
)


@dataclass(frozen=True)
class InstallQuestion:
    """One installation-wizard question: the InstallWizardAnswers field it fills and its input kind."""

    field: str
    label: str
    kind: Literal["ipv4", "netmask", "hostname", "domain", "ip_list", "host_list", "username", "yesno", "email"]


INSTALL_QUESTIONS: tuple[InstallQuestion, ...] = (
    InstallQuestion("address", "IP address", "ipv4"),
    InstallQuestion("netmask", "Network mask", "netmask"),
    InstallQuestion("gateway", "Gateway", "ipv4"),
    InstallQuestion("hostname", "Hostname", "hostname"),
    InstallQuestion("domain", "Domain suffix", "domain"),
    InstallQuestion("dns_servers", "DNS servers", "ip_list"),
    InstallQuestion("ntp_servers", "NTP servers", "host_list"),
    InstallQuestion("web_admin_username", "Web administration username", "username"),
)
WEB_PASSWORD = "Web administration password: "
WEB_PASSWORD_AGAIN = "Re-enter web administration password: "
INCIDENT_REPORTING = "Enable incident reporting (yes/no): "
CONTACT_EMAIL = "Contact email address: "
SEND_STATISTICS = "Send deployment and usage statistics to Pexip (yes/no): "
