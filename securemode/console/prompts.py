"""What the engine expects a Pexip node's console to print.

The security-wizard labels are the guide's own rows (taken from the control catalogue); the rest is
the wording of the lab twin, which guesses a real v16 node's [?]. Patterns are lenient where the
wording is a guess (optional "DNS", "suffix", "[default]", "(yes/no)"), and a prompt only matches at
the start of a line and the end of the output, so "Re-enter … password" never passes for
"… password".
"""

from __future__ import annotations

from securemode.console.expect import Pattern

_DEFAULT = r"(?:\s*\[[^\]\n]*\])?\s*:"

PASSWORD_MUST_BE_SET = Pattern("'A password for this user must be set'", r"password for this user must be set",
                               prompt=False)
NEW_PASSWORD = Pattern("'New password:'", r"(?:Enter )?new (?:UNIX )?password:")
RETYPE_PASSWORD = Pattern("'Retype new password:'", r"Retype new (?:UNIX )?password:")
ADMIN_PASSWORD = Pattern("the admin password prompt", r"(?:\[sudo\] )?password(?: for admin)?:")
BAD_PASSWORD = Pattern("'Sorry, try again'", r"Sorry, try again|incorrect password", prompt=False)
SHELL = Pattern("the shell prompt", r"[^\s@]+@[^\s:]+:\S*[$#]")
REBOOT = Pattern("the reboot notice", r"reboot", prompt=False)
SECURITY_WIZARD_COMMAND = "securitywizard"


def question(label: str, regex: str) -> Pattern:
    return Pattern(f"'{label}'", regex + _DEFAULT)


# installation wizard: (answer key, pattern); "Re-enter" comes first only for readability, the
# line anchor keeps the two password prompts apart anyway.
INSTALL_QUESTIONS: tuple[tuple[str, Pattern], ...] = (
    ("address", question("IP address", r"IP address")),
    ("netmask", question("Network mask", r"(?:Network mask|Netmask|Subnet mask)")),
    ("gateway", question("Gateway", r"(?:Default )?Gateway")),
    ("hostname", question("Hostname", r"(?:DNS )?Hostname")),
    ("domain", question("Domain suffix", r"Domain(?: suffix)?")),
    ("dns_servers", question("DNS servers", r"DNS servers?")),
    ("ntp_servers", question("NTP servers", r"NTP servers?")),
    ("web_username", question("Web administration username", r"Web administration username")),
    ("web_password_again", question("Re-enter web administration password",
                                    r"Re-?enter (?:the )?web administration password")),
    ("web_password", question("Web administration password", r"Web administration password")),
    ("incident_reporting", question("Enable incident reporting", r"Enable incident reporting(?:\s*\(yes/no\))?")),
    ("send_statistics", question("Send deployment and usage statistics to Pexip",
                                 r"Send deployment and usage statistics(?: to Pexip)?(?:\s*\(yes/no\))?")),
)
