"""Setting the LDAP service account's password in the directory, as the account the site names for it
(``rebuild.ldap_admin``), over TLS verified against the site's LDAP CA (an LDAP password modify)."""

from __future__ import annotations

import ldap3
from ldap3.core.exceptions import LDAPException

from securemode.site_loader import LoadedSite
from securemode.tasks.auth.directory import DirectoryUnavailable, bound_connection


def set_bind_password(loaded: LoadedSite, new_password: str) -> None:
    """Replace the bind account's ``userPassword`` with ``new_password``; raise DirectoryUnavailable naming the
    server and the result (never a value) when the directory refuses."""
    conf, admin = loaded.site.ldap, loaded.site.rebuild.ldap_admin
    if admin is None:
        raise ValueError("rebuild.ldap_admin is not set: the site cannot change the LDAP bind password")
    where = f"{conf.tls} {conf.server}:{conf.port}"
    password = loaded.secret(admin.password).get_secret_value()
    with bound_connection(loaded, admin.dn, password, "rebuild.ldap_admin", read_only=False) as conn:
        try:
            changed = conn.modify(conf.bind_dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [new_password])]})
        except LDAPException as exc:
            raise DirectoryUnavailable(f"{where}: {type(exc).__name__}") from None
        if not changed:
            raise DirectoryUnavailable(
                f"{where}: setting the password of {conf.bind_dn} was refused ({conn.result.get('description')})"
            )
