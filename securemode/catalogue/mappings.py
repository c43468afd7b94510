"""Where each control comes from for an assessor: its ESXi STIG rule (ids, CCIs, category) and its NIST
SP 800-53 rev5 controls, merged into the catalogue entries so every report format carries them.

STIG data: DISA's VMware vSphere 8.0 ESXi STIG as tagged in VMware's own InSpec profile
(vmware/dod-compliance-and-automation, ``vsphere/8.0/*-stig/.../esxi/controls/<STIG-ID>.rb``: ``gid``, ``rid``,
``gtitle``, ``cci``, ``nist``, ``severity``). NIST for STIG rows comes from those CCIs (DISA's CCI list);
for the guide's own rows it is chosen below, one reason per group.
"""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, StigRule

# STIG id: (vuln id, rule id, SRG id, severity, CCIs, NIST rev5 via the CCIs)
_STIG: dict[str, tuple[str, str, str, ControlSeverity, tuple[str, ...], tuple[str, ...]]] = {
    "ESXI-80-000005": ("V-258728", "SV-258728r933245_rule", "SRG-OS-000021-VMM-000050", ControlSeverity.MEDIUM,
                       ("CCI-000044",), ("AC-7 a",)),
    "ESXI-80-000006": ("V-258729", "SV-258729r933248_rule", "SRG-OS-000023-VMM-000060", ControlSeverity.MEDIUM,
                       ("CCI-000048", "CCI-000050"), ("AC-8 a", "AC-8 b")),
    "ESXI-80-000008": ("V-258730", "SV-258730r958398_rule", "SRG-OS-000027-VMM-000080", ControlSeverity.MEDIUM,
                       ("CCI-000054",), ("AC-10",)),
    "ESXI-80-000010": ("V-258731", "SV-258731r933254_rule", "SRG-OS-000029-VMM-000100", ControlSeverity.MEDIUM,
                       ("CCI-000057",), ("AC-11 a",)),
    "ESXI-80-000015": ("V-258733", "SV-258733r933260_rule", "SRG-OS-000037-VMM-000150", ControlSeverity.MEDIUM,
                       ("CCI-000130", "CCI-000171"), ("AU-3 a", "AU-12 b")),
    "ESXI-80-000035": ("V-258734", "SV-258734r1003558_rule", "SRG-OS-000069-VMM-000360", ControlSeverity.MEDIUM,
                       ("CCI-004066",), ("IA-5 (1) (h)",)),
    "ESXI-80-000043": ("V-258735", "SV-258735r1003559_rule", "SRG-OS-000077-VMM-000440", ControlSeverity.MEDIUM,
                       ("CCI-004061",), ("IA-5 (1) (b)",)),
    "ESXI-80-000047": ("V-258736", "SV-258736r958478_rule", "SRG-OS-000095-VMM-000480", ControlSeverity.MEDIUM,
                       ("CCI-000381",), ("CM-7 a",)),
    "ESXI-80-000068": ("V-258739", "SV-258739r933278_rule", "SRG-OS-000163-VMM-000700", ControlSeverity.MEDIUM,
                       ("CCI-001133", "CCI-002361"), ("SC-10", "AC-12")),
    "ESXI-80-000111": ("V-258742", "SV-258742r933287_rule", "SRG-OS-000329-VMM-001180", ControlSeverity.MEDIUM,
                       ("CCI-002238",), ("AC-7 b",)),
    "ESXI-80-000113": ("V-258743", "SV-258743r958752_rule", "SRG-OS-000341-VMM-001220", ControlSeverity.MEDIUM,
                       ("CCI-001849",), ("AU-4",)),
    "ESXI-80-000114": ("V-258744", "SV-258744r1003565_rule", "SRG-OS-000342-VMM-001230", ControlSeverity.MEDIUM,
                       ("CCI-000015", "CCI-001851"), ("AC-2 (1)", "AU-4 (1)")),
    "ESXI-80-000124": ("V-258745", "SV-258745r933296_rule", "SRG-OS-000355-VMM-001330", ControlSeverity.MEDIUM,
                       ("CCI-001891", "CCI-002046"), ("AU-8 (1) (a)", "AU-8 (1) (b)")),
    "ESXI-80-000189": ("V-258751", "SV-258751r933314_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000191": ("V-258752", "SV-258752r933317_rule", "SRG-OS-000023-VMM-000060", ControlSeverity.MEDIUM,
                       ("CCI-000048",), ("AC-8 a",)),
    "ESXI-80-000193": ("V-258754", "SV-258754r958478_rule", "SRG-OS-000095-VMM-000480", ControlSeverity.MEDIUM,
                       ("CCI-000381", "CCI-002314", "CCI-002322"), ("CM-7 a", "AC-17 (1)", "AC-17 (9)")),
    "ESXI-80-000194": ("V-258755", "SV-258755r933326_rule", "SRG-OS-000095-VMM-000480", ControlSeverity.MEDIUM,
                       ("CCI-000381",), ("CM-7 a",)),
    "ESXI-80-000195": ("V-258756", "SV-258756r1003569_rule", "SRG-OS-000163-VMM-000700", ControlSeverity.MEDIUM,
                       ("CCI-001133",), ("SC-10",)),
    "ESXI-80-000196": ("V-258757", "SV-258757r1003570_rule", "SRG-OS-000163-VMM-000700", ControlSeverity.MEDIUM,
                       ("CCI-001133",), ("SC-10",)),
    "ESXI-80-000201": ("V-258760", "SV-258760r933341_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000213": ("V-258768", "SV-258768r933365_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.LOW,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000215": ("V-258770", "SV-258770r933371_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000216": ("V-258771", "SV-258771r959010_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000217": ("V-258772", "SV-258772r959010_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.HIGH,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000218": ("V-258773", "SV-258773r933380_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000219": ("V-258774", "SV-258774r933383_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000220": ("V-258775", "SV-258775r933386_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000222": ("V-258777", "SV-258777r933392_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000223": ("V-258778", "SV-258778r933395_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000224": ("V-258779", "SV-258779r933398_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000225": ("V-258780", "SV-258780r933401_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000226": ("V-258781", "SV-258781r933404_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000227": ("V-258782", "SV-258782r933407_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000228": ("V-258783", "SV-258783r959010_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000231": ("V-258786", "SV-258786r933419_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000232": ("V-258787", "SV-258787r933422_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000233": ("V-258788", "SV-258788r933425_rule", "SRG-OS-000342-VMM-001230", ControlSeverity.MEDIUM,
                       ("CCI-001851",), ("AU-4 (1)",)),
    "ESXI-80-000234": ("V-258789", "SV-258789r959010_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000235": ("V-258790", "SV-258790r958412_rule", "SRG-OS-000037-VMM-000150", ControlSeverity.MEDIUM,
                       ("CCI-000130",), ("AU-3 a",)),
    "ESXI-80-000243": ("V-258797", "SV-258797r1003575_rule", "SRG-OS-000341-VMM-001220", ControlSeverity.MEDIUM,
                       ("CCI-001849",), ("AU-4",)),
    "ESXI-80-000244": ("V-258798", "SV-258798r933455_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
    "ESXI-80-000250": ("V-265977", "SV-265977r1003587_rule", "SRG-OS-000480-VMM-002000", ControlSeverity.MEDIUM,
                       ("CCI-000366",), ("CM-6 b",)),
}

# Guide rows that enforce a STIG rule without the host.stig.<id> form.
STIG_OF: dict[str, str] = {"host.vlan.no-4095": "ESXI-80-000220"}

# NIST SP 800-53 rev5 for the guide's rows: (control-id prefix, controls, why). The first matching prefix wins,
# so the specific prefixes come before the general ones.
GUIDE_NIST: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("host.pnics", ("SC-7", "SC-32"), "management and media traffic on separate physical networks: boundary "
     "protection and system partitioning"),
    ("host.engine-account", ("AC-6", "AC-6 (5)"), "the engine's account, the lockdown exception user, holds only "
     "the privileges its own calls use: least privilege"),
    ("host.vlan", ("SC-7", "CM-6"), "no trunk-all (4095) or reserved VLAN on a port group: boundary protection"),
    ("vms.ova", ("CM-2",), "the VM is deployed from the vendor's baseline image"),
    ("vms.network", ("SC-7",), "the VM's VLAN keeps it inside its network boundary"),
    ("vms.bios.supervisor-password", ("AC-3", "CM-6"), "only the holder of the BIOS password changes firmware "
     "settings"),
    ("vms.bios", ("CM-6", "CM-7"), "firmware configured to boot only the installed disk"),
    ("vms", ("SC-6",), "reserved CPU, memory and disk I/O: resource availability for real-time media"),
    ("bootstrap.install.admin-password", ("IA-5", "IA-2"), "the console account has an authenticator"),
    ("bootstrap.install", ("CM-7", "AC-4"), "no incident or usage data leaves the deployment"),
    ("bootstrap.web-login", ("IA-2", "AC-3"), "administrators authenticate before any management access"),
    ("bootstrap.wizard.fips", ("SC-13",), "FIPS-validated cryptography"),
    ("bootstrap.wizard.disable-admin", ("AC-2", "AC-6"), "the shared system administrator account is disabled"),
    ("bootstrap.wizard.web-sessions", ("AC-10",), "concurrent management sessions are limited"),
    ("bootstrap.wizard.host-headers", ("SI-10",), "host headers are validated (input validation)"),
    ("bootstrap.wizard.tls10", ("SC-8", "SC-13"), "TLS posture: no TLS 1.0 on management or signalling"),
    ("bootstrap.wizard.anon-dh", ("SC-8", "SC-13"), "TLS posture: no unauthenticated Diffie-Hellman"),
    ("bootstrap.wizard.sip", ("CM-7",), "only the configured SIP listen ports are open"),
    ("bootstrap.wizard", ("SC-7", "CM-7"), "ICMPv6 and closed-port behaviour hardened at the node's boundary"),
    ("nodes.vlan", ("SC-7",), "the node's VLAN keeps it inside its network boundary"),
    ("nodes.reserved", ("SC-6",), "reserved resources: availability for real-time media"),
    ("nodes", ("CM-2", "CM-8"), "each Conferencing Node is a known, manually deployed component"),
    ("pki.cert.key-pair", ("SC-12", "SC-17"), "the server holds the private key of its certificate"),
    ("pki.cert", ("SC-17", "IA-5 (2)"), "node certificates issued by the site's PKI, valid and named for the node"),
    ("pki.sip-tls", ("SC-17", "SC-8"), "SIP TLS presents a certificate from the site's PKI"),
    ("pki.trusted-ca", ("SC-17",), "the deployment trusts the site's CA chain"),
    ("pki", ("SC-8", "SC-13"), "TLS posture: protocol versions and cipher suites protect traffic"),
    ("platform.global.ocsp", ("IA-5 (2)", "SC-17"), "certificate revocation is checked (OCSP)"),
    ("platform.global.sip-tls-verify", ("IA-3", "SC-8"), "SIP TLS peers are authenticated by certificate"),
    ("platform.global.login-banner", ("AC-8",), "system use notification before logon"),
    ("platform.global.session-timeout", ("AC-12", "SC-10"), "idle management sessions end"),
    ("platform.global.management-dscp", ("SC-6",), "management traffic prioritised (resource availability)"),
    ("platform.global", ("CM-7",), "least functionality: protocols, applications and services not needed are "
     "off, port ranges as planned"),
    ("platform.role.auditor", ("AC-6", "AU-9"), "a separate Auditor role holds log access"),
    ("platform.role", ("AC-6", "AC-2"), "least privilege: operator roles lose log and snapshot access"),
    ("platform.dns", ("SC-22",), "name resolution from at least two known servers"),
    ("platform.ntp", ("AU-8", "SC-45"), "time stamps from authenticated, redundant time sources"),
    ("platform.syslog", ("AU-4", "AU-9"), "remote syslog: audit records stored off the node and protected"),
    ("platform.snmp", ("IA-3", "SC-8", "CM-7"), "SNMPv3 with authentication and privacy only; v1/v2c off"),
    ("platform.location", ("SC-6",), "media and signalling prioritised per location (resource availability)"),
    ("platform.ipv6", ("CM-6",), "IPv6 addressing as the site's configuration baseline says"),
    ("auth.client-certificate", ("IA-2", "IA-5 (2)"), "administrators authenticate with a PKI certificate"),
    ("auth.role-enforcement", ("AC-3", "AC-6"), "each role is limited to what it is allowed"),
    ("auth.ldap-roles", ("AC-2", "AC-6"), "accounts managed centrally; roles granted through LDAP groups"),
    ("auth.ldap.connection", ("IA-2", "AC-2", "SC-8"), "LDAP-only login over TLS to the directory"),
    ("auth", ("IA-2", "AC-2"), "LDAP-only login: organisational accounts, no local accounts"),
    ("contingency.powered-off", ("CP-7", "CM-7"), "the fallback exists but stays powered off until needed"),
    ("contingency", ("CP-7", "CP-10"), "an alternate deployment mirroring the primary, ready for recovery"),
)


def stig_rule(control_id: str) -> tuple[StigRule, ControlSeverity, tuple[str, ...]] | None:
    """The STIG rule, DISA category and NIST controls of a STIG row (None for the guide's own rows)."""
    stig_id = STIG_OF.get(control_id) or (control_id.split(".stig.", 1)[1] if ".stig." in control_id else None)
    if stig_id is None:
        return None
    vuln, rule, srg, severity, ccis, nist = _STIG[stig_id]
    return StigRule(stig_id=stig_id, vuln_id=vuln, rule_id=rule, srg_id=srg, ccis=ccis), severity, nist


def guide_nist(control_id: str) -> tuple[str, ...]:
    """NIST controls chosen for a guide row (empty when no prefix matches: the catalogue test catches it)."""
    return next((nist for prefix, nist, _ in GUIDE_NIST if control_id.startswith(prefix)), ())


def mapped(control: Control) -> Control:
    """The control with its STIG rule, severity and NIST controls filled in."""
    stig = stig_rule(control.id)
    if stig is not None:
        rule, severity, nist = stig
        return control.model_copy(update={"stig": rule, "severity": severity, "nist": nist})
    return control.model_copy(update={"nist": guide_nist(control.id)})
