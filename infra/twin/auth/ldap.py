"""A real LDAP client for administrator login, configured by authentication/1/.

Pexip binds with the service account, finds the user with the user filters, binds as the user to
check the password, and collects groups from the user's group attribute (memberOf) and from a group
search. The twin does the same against a real slapd. TLS is required unless ldap_permit_no_tls.
"""

from __future__ import annotations

import math
import ssl
import struct
from dataclasses import dataclass, field
from typing import Any

from ldap3 import NONE, SIMPLE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars


@dataclass(frozen=True)
class LdapOptions:
    """How to reach the directory, which the API cannot express: port override and the CA to trust.

    tls_mode: "auto" (LDAPS on port 636, StartTLS otherwise), "ldaps" or "starttls".
    """

    port: int | None = None
    ca_file: str | None = None
    tls_mode: str = "auto"
    timeout_s: float = 5.0


@dataclass(frozen=True)
class LdapUser:
    dn: str
    uid: str
    groups: frozenset[str] = field(default_factory=frozenset)


class LdapError(Exception):
    """The directory could not be used (unreachable, TLS failure, bad service account)."""


class LdapDirectory:
    def __init__(self, settings: dict[str, Any], options: LdapOptions) -> None:
        self.settings = settings
        self.options = options

    def _server(self, use_ssl: bool) -> tuple[Server, int]:
        raw = str(self.settings.get("ldap_server") or "")
        host, _, port_text = raw.rpartition(":") if raw.count(":") == 1 else (raw, "", "")
        port = int(port_text) if port_text.isdigit() else (self.options.port or (636 if use_ssl else 389))
        tls = Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=self.options.ca_file,
            version=ssl.PROTOCOL_TLS_CLIENT,
        )
        server = Server(
            host, port=port, use_ssl=use_ssl, tls=tls, get_info=NONE, connect_timeout=self.options.timeout_s
        )
        return server, port

    def _mode(self) -> str:
        if self.options.tls_mode != "auto":
            return self.options.tls_mode
        raw = str(self.settings.get("ldap_server") or "")
        port = raw.rpartition(":")[2] if raw.count(":") == 1 else str(self.options.port or "")
        return "ldaps" if port == "636" or (self.options.port == 636) else "starttls"

    def connect(self, user: str | None, password: str | None) -> Connection:
        """An open, bound connection; raises LdapError on transport failure, returns unbound on bad creds."""
        mode = self._mode()
        server, _ = self._server(use_ssl=mode == "ldaps")
        conn = Connection(
            server,
            user=user or None,
            password=password or None,
            authentication=SIMPLE,
            receive_timeout=max(1, math.ceil(self.options.timeout_s)),
            raise_exceptions=False,
        )
        try:
            conn.open()
            if mode == "starttls" and not conn.start_tls() and not self.settings.get("ldap_permit_no_tls"):
                raise LdapError("StartTLS failed")
            conn.bind()
        except (LDAPException, OSError, ValueError, struct.error) as exc:
            raise LdapError(type(exc).__name__) from None
        return conn

    def _base(self, relative_key: str) -> str:
        base = str(self.settings.get("ldap_base_dn") or "")
        rel = str(self.settings.get(relative_key) or "")
        return f"{rel},{base}" if rel and base else rel or base

    def find_user(self, username: str) -> LdapUser | None:
        """Service-account search for the user and their groups; None when not found."""
        conn = self.connect(self.settings.get("ldap_bind_username"), self.settings.get("ldap_bind_password"))
        try:
            if not conn.bound:
                raise LdapError("service account bind failed")
            user_filter = str(self.settings.get("ldap_user_search_filter")).replace(
                "{username}", escape_filter_chars(username)
            )
            search = f"(&{self.settings.get('ldap_user_filter')}{user_filter})"
            attrs = [a.strip() for a in str(self.settings.get("ldap_user_group_attributes") or "").split(",")]
            attrs = [a for a in attrs if a]
            if not conn.search(self._base("ldap_user_search_dn"), search, attributes=[*attrs, "uid"]):
                return None
            if len(conn.entries) != 1:
                return None
            entry = conn.entries[0]
            dn = entry.entry_dn
            uid_values = entry.entry_attributes_as_dict.get("uid") or [username]
            uid = str(uid_values[0])
            groups = {str(v) for a in attrs for v in entry.entry_attributes_as_dict.get(a, [])}
            groups |= self._group_search(conn, dn, uid)
            return LdapUser(dn, uid, frozenset(groups))
        finally:
            conn.unbind()

    def _group_search(self, conn: Connection, user_dn: str, uid: str) -> set[str]:
        membership = (
            str(self.settings.get("ldap_group_membership_filter") or "")
            .replace("{userdn}", escape_filter_chars(user_dn))
            .replace("{useruid}", escape_filter_chars(uid))
        )
        if not membership:
            return set()
        search = f"(&{self.settings.get('ldap_group_filter')}{membership})"
        if not conn.search(self._base("ldap_group_search_dn"), search, attributes=[]):
            return set()
        return {e.entry_dn for e in conn.entries}

    def check_password(self, user_dn: str, password: str) -> bool:
        if not password:
            return False  # an empty password would be an unauthenticated bind
        conn = self.connect(user_dn, password)
        try:
            return bool(conn.bound)
        finally:
            conn.unbind()
