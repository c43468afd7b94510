"""Turn credentials or a verified client certificate into a Principal with permission codenames,
following authentication/1/: LOCAL, LDAP or LDAP+LOCAL, and client_certificate NO/CN/UPN.

The local admin account always has every permission (roles do not apply to it, Pexip docs); an LDAP
user gets the permissions of the roles mapped from their groups by ldap_role objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from securemode.infra.twin import ocsp_check, pki
from securemode.infra.twin.auth.ldap import LdapDirectory, LdapError, LdapOptions
from securemode.infra.twin.passwords import check_password
from securemode.infra.twin.state.twin_state import TwinState

log = logging.getLogger("securemode.infra.twin.auth")


@dataclass(frozen=True)
class Principal:
    username: str
    source: str  # local | ldap | certificate
    permissions: frozenset[str]

    def may(self, codename: str) -> bool:
        return codename in self.permissions


def _norm_dn(dn: str) -> str:
    return ",".join(part.strip() for part in dn.lower().split(","))


class Authenticator:
    def __init__(self, state: TwinState, ldap_options: LdapOptions) -> None:
        self.state = state
        self.ldap_options = ldap_options

    @property
    def client_certificate_mode(self) -> str:
        return str(self.state.authentication().get("client_certificate") or "NO")

    def password_login(self, username: str, password: str) -> Principal | None:
        settings = self.state.authentication()
        source = str(settings.get("source") or "LOCAL")
        if source in ("LOCAL", "LDAP+LOCAL"):
            principal = self._local(username, password)
            if principal is not None:
                return principal
        if "LDAP" in source:
            return self._ldap(username, password, settings)
        return None

    def certificate_login(self, der: bytes | None) -> Principal | None:
        """Identity from the verified certificate; it must exist in LDAP (the guide's rule)."""
        mode = self.client_certificate_mode
        if mode == "NO" or not der:
            return None
        identity = pki.identity_from_certificate(der, mode)
        if not identity:
            return None
        if ocsp_check.revoked(der, self.state.global_settings(), self.state.trusted_ca_pem()):
            log.warning("client certificate of %s refused: revoked (OCSP)", identity)
            return None
        settings = self.state.authentication()
        try:
            user = LdapDirectory(settings, self._options()).find_user(identity)
        except LdapError as exc:
            log.warning("LDAP unavailable for certificate login: %s", exc)
            return None
        if user is None:
            return None
        return Principal(identity, "certificate", self.permissions_for_groups(user.groups))

    def _options(self) -> LdapOptions:
        opts = self.ldap_options
        return LdapOptions(opts.port, opts.ca_file, opts.tls_mode, self.state.config.ldap_timeout_s)

    def _local(self, username: str, password: str) -> Principal | None:
        answers = self.state.install_wizard()
        if username != answers.web_admin_username or not answers.web_admin_password_hash:
            return None
        if not check_password(password, answers.web_admin_password_hash):
            return None
        return Principal(username, "local", frozenset(p.codename for p in self.state.config.permissions))

    def _ldap(self, username: str, password: str, settings: dict[str, object]) -> Principal | None:
        directory = LdapDirectory(dict(settings), self._options())
        try:
            user = directory.find_user(username)
            if user is None or not directory.check_password(user.dn, password):
                return None
        except LdapError as exc:
            log.warning("LDAP unavailable for login: %s", exc)
            return None
        return Principal(username, "ldap", self.permissions_for_groups(user.groups))

    def permissions_for_groups(self, groups: frozenset[str]) -> frozenset[str]:
        store = self.state.store
        wanted = {_norm_dn(g) for g in groups}
        role_ids = {
            r
            for m in store.all("ldap_role")
            if _norm_dn(m.get("ldap_group_dn", "")) in wanted
            for r in m.get("roles", [])
        }
        perm_ids = {p for rid in role_ids for p in (store.get("role", rid) or {}).get("permissions", [])}
        return frozenset(str(p["codename"]) for pid in perm_ids if (p := store.get("permission", pid)))
