"""Setting the LDAP service account's password in the directory, as the account the site names for it
(``rebuild.ldap_admin``), over TLS verified against the site's LDAP CA (an LDAP password modify)."""

from __future__ import annotations

import contextlib

import ldap3
from ldap3.core.exceptions import LDAPException

from securemode.site_loader import LoadedSite
from securemode.tasks.auth.directory import TIMEOUT_S, DirectoryUnavailable, site_server


def set_bind_password(loaded: LoadedSite, new_password: str) -> None:
    """Replace the bind account's ``userPassword`` with ``new_password``; raise DirectoryUnavailable naming the
    server and the result (never a value) when the directory refuses."""
    conf, admin = loaded.site.ldap, loaded.site.rebuild.ldap_admin
    if admin is None:
        raise ValueError("rebuild.ldap_admin is not set: the site cannot change the LDAP bind password")
    conn = ldap3.Connection(
        site_server(loaded),
        user=admin.dn,
        password=loaded.secret(admin.password).get_secret_value(),
        receive_timeout=int(TIMEOUT_S),
        raise_exceptions=False,
    )
    where = f"{conf.tls} {conf.server}:{conf.port}"
    try:
        conn.open()
        if conf.tls == "starttls" and not conn.start_tls():
            raise DirectoryUnavailable(f"{where}: StartTLS refused")
        if not conn.bind():
            raise DirectoryUnavailable(
                f"{where}: rebuild.ldap_admin's bind was refused ({conn.result.get('description')})"
            )
        if not conn.modify(conf.bind_dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [new_password])]}):
            raise DirectoryUnavailable(
                f"{where}: setting the password of {conf.bind_dn} was refused ({conn.result.get('description')})"
            )
    except LDAPException as exc:
        raise DirectoryUnavailable(f"{where}: {type(exc).__name__}") from None
    finally:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()
