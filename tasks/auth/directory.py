"""The site's LDAP directory as the engine sees it: the service account's bind over TLS verified against
the site's CA, and the groups that directory really has.

Used before anything is written to the Management Node: a connection the engine cannot make with the
site's own settings is refused, and a group the site maps that the directory does not have is refused
with the list of groups it does have (so the site file can be corrected, not guessed).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from securemode.redact import register_secret
from securemode.site_loader import LoadedSite

# Pexip's default group filter (authentication.ldap_group_filter), so the engine sees the groups Pexip sees.
GROUP_FILTER = (
    "(|(objectclass=group)(objectclass=groupOfNames)(objectclass=groupOfUniqueNames)(objectclass=posixGroup))"
)
TIMEOUT_S = 5.0


class DirectoryUnavailable(RuntimeError):
    """The directory could not be reached, its certificate did not verify or the service bind failed."""


def norm_dn(dn: str) -> str:
    """A DN compared the way directories compare them: case and spaces around separators ignored."""
    return ",".join("=".join(part.strip() for part in rdn.split("=", 1)) for rdn in dn.lower().split(","))


def site_server(loaded: LoadedSite) -> ldap3.Server:
    """The site's LDAP server, its TLS verified against the site's CA (LDAPS, or StartTLS once connected)."""
    conf = loaded.site.ldap
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=str(loaded.resolve_path(conf.ca_file)),
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return ldap3.Server(
        conf.server,
        port=conf.port,
        use_ssl=conf.tls == "ldaps",
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=TIMEOUT_S,
    )


@contextlib.contextmanager
def bound_connection(
    loaded: LoadedSite, user: str, password: str, who: str, *, read_only: bool
) -> Iterator[ldap3.Connection]:
    """A connection to the site's LDAP server bound as ``user``, over verified TLS (LDAPS or StartTLS);
    DirectoryUnavailable names the server and ``who`` was refused (never the password)."""
    conf = loaded.site.ldap
    register_secret(password)
    conn = ldap3.Connection(
        site_server(loaded),
        user=user,
        password=password,
        read_only=read_only,
        receive_timeout=int(TIMEOUT_S),
        raise_exceptions=False,
    )
    where = f"{conf.tls} {conf.server}:{conf.port}"
    try:
        conn.open()
        if conf.tls == "starttls" and not conn.start_tls():
            raise DirectoryUnavailable(f"{where}: StartTLS refused")
        if not conn.bind():
            raise DirectoryUnavailable(f"{where}: {who}'s bind was refused ({conn.result.get('description')})")
    except LDAPException as exc:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()
        raise DirectoryUnavailable(f"{where}: {type(exc).__name__}: {exc}") from None
    try:
        yield conn
    finally:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()


def service_connection(loaded: LoadedSite) -> contextlib.AbstractContextManager[ldap3.Connection]:
    """A bound, read-only connection as the site's service account, over verified TLS (LDAPS or StartTLS)."""
    conf = loaded.site.ldap
    password = loaded.secret(conf.bind_password).get_secret_value()
    return bound_connection(loaded, conf.bind_dn, password, "the service account", read_only=True)


def directory_groups(loaded: LoadedSite) -> list[str]:
    """Every group DN under the site's base DN, as the directory spells them (sorted)."""
    with service_connection(loaded) as conn:
        if not conn.search(loaded.site.ldap.base_dn, GROUP_FILTER, attributes=[]) and conn.result.get("result"):
            raise DirectoryUnavailable(f"the group search failed: {conn.result.get('description')}")
        return sorted(entry.entry_dn for entry in conn.entries)


def user_exists(loaded: LoadedSite, identity: str, attribute: str) -> bool:
    """True when exactly one person under the base DN has ``attribute`` equal to ``identity``."""
    with service_connection(loaded) as conn:
        conn.search(
            loaded.site.ldap.base_dn,
            f"(&(objectclass=person)({attribute}={escape_filter_chars(identity)}))",
            attributes=[],
        )
        return len(conn.entries) == 1
