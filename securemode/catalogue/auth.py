"""Guide: Configure user accounts and authentication settings (LDAP, role mapping, client certificates)."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

SECTION = "Configure user accounts and authentication settings"

CONTROLS: tuple[Control, ...] = (
    Control(id="auth.ldap.connection", title="LDAP server connection configured and reachable over TLS",
            stage=Stage.AUTH, section="LDAP server connection details", guide_text="specify the connection details "
            "for the LDAP-accessible server", target=TargetKind.LDAP, desired="site:ldap", setting="authentication",
            severity=ControlSeverity.HIGH),
    Control(id="auth.source.ldap-and-local", title="Authentication source LDAP and local during the cut-over",
            stage=Stage.AUTH, section="LDAP server connection details", guide_text="Set the Authentication source to "
            "LDAP database and local database", target=TargetKind.PLATFORM, desired="LDAP+LOCAL",
            setting="authentication.source"),
    Control(id="auth.ldap-roles", title="Every account role mapped to at least one LDAP group", stage=Stage.AUTH,
            section="LDAP group to role mapping", guide_text="ensuring that every account role is mapped to at least "
            "one LDAP group", target=TargetKind.PLATFORM, desired="site:ldap.group_roles", setting="ldap_role"),
    Control(id="auth.ldap-login", title="Each mapped role's LDAP user can log in over HTTPS", stage=Stage.AUTH,
            section="LDAP group to role mapping", target=TargetKind.PLATFORM, desired="login succeeds per role",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="auth.role-enforcement", title="Each role can do exactly what it should", stage=Stage.AUTH,
            section="Account roles", target=TargetKind.PLATFORM, desired="Read-only 403 on writes; Auditor views logs",
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="auth.client-certificate", title="Client certificate required (identity in CN or UPN)",
            stage=Stage.AUTH, section="Enable certificate-based authentication", guide_text="Set Require client "
            "certificate to one of the Required options", target=TargetKind.PLATFORM,
            desired="site:client_certificate", setting="authentication.client_certificate",
            severity=ControlSeverity.HIGH, flags=frozenset({Flag.LOCKOUT_RISK})),
    Control(id="auth.client-certificate.issued", title="A client certificate per administrator, for a user in "
            "LDAP", stage=Stage.AUTH, section="Enable certificate-based authentication", guide_text="Install "
            "suitable client certificates into the certificate stores of the browsers", target=TargetKind.PLATFORM,
            desired="site:administrators", setting="client certificates"),
    Control(id="auth.certificate-required", title="A browser without a client certificate gets no login page",
            stage=Stage.AUTH, section="Enable certificate-based authentication", guide_text="the standard login "
            "page is no longer presented", target=TargetKind.PLATFORM,
            desired="no login page and no API access without a certificate", severity=ControlSeverity.HIGH,
            flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="auth.unknown-user-certificate-refused", title="A certificate for a user missing from LDAP is "
            "refused", stage=Stage.AUTH, section="Enable certificate-based authentication", guide_text="The "
            "identities contained in the certificates must exist in the LDAP database",
            target=TargetKind.PLATFORM, desired="403 for a CA-signed certificate naming no LDAP user",
            severity=ControlSeverity.HIGH, flags=frozenset({Flag.VERIFY_ONLY})),
    Control(id="auth.source.ldap-only", title="Local authentication disabled (LDAP only)", stage=Stage.AUTH,
            section="Disable local authentication", guide_text="Set the Authentication source to LDAP database",
            target=TargetKind.PLATFORM, desired="LDAP", setting="authentication.source",
            severity=ControlSeverity.HIGH, flags=frozenset({Flag.LOCKOUT_RISK})),
    Control(id="auth.local-admin-refused", title="Local admin account refused after the cut-over", stage=Stage.AUTH,
            section="Disable local authentication", guide_text="no local account information is used",
            target=TargetKind.PLATFORM, desired="401/403 for the local admin", severity=ControlSeverity.HIGH,
            flags=frozenset({Flag.VERIFY_ONLY})),
)
