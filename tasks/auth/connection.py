"""LDAP connection settings and the "LDAP database and local database" source (guide: LDAP server
connection details).

The engine first binds to the directory itself, as the site's service account over TLS verified against
the site's CA: settings the engine cannot use are refused before they reach the Management Node. The
bind password is write-only on the node; it is written when the ledger holds no digest of the site's
value (see :mod:`securemode.pexip.ledger`). The source becomes LDAP+LOCAL, the state the cut-over starts
from; once the cut-over has made it LDAP only, this step leaves it alone (the cut-over owns it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import management_api, write_only_ledger
from securemode.pexip.ledger import WriteOnlyLedger
from securemode.site import ClientCertificateMode, Ldap, Site
from securemode.targets import PLATFORM_TARGET, ldap_label
from securemode.tasks.auth.directory import DirectoryUnavailable, service_connection

CONNECTION_CONTROL = "auth.ldap.connection"
SOURCE_CONTROL = "auth.source.ldap-and-local"
AUTHENTICATION = config_uri("authentication", 1)
PASSWORD_FIELD = "ldap_bind_password"
LDAP_AND_LOCAL, LDAP_ONLY = "LDAP+LOCAL", "LDAP"


DEFAULT_USER_SEARCH = "(|(uid={username})(sAMAccountName={username}))"
UPN_USER_SEARCH = "(|(uid={username})(sAMAccountName={username})(userPrincipalName={username}))"


def connection_fields(ldap: Ldap, mode: ClientCertificateMode = ClientCertificateMode.CN) -> dict[str, Any]:
    """The authentication fields the site decides (the password aside). Pexip picks LDAPS or StartTLS by
    itself and has no port field: the site's port and TLS mode are what the engine's own checks use. In
    UPN mode the user search also matches userPrincipalName: the identity a UPN certificate carries."""
    return {
        "ldap_server": ldap.server,
        "ldap_base_dn": ldap.base_dn,
        "ldap_bind_username": ldap.bind_dn,
        "ldap_user_search_dn": ldap.user_search_dn,
        "ldap_user_search_filter": UPN_USER_SEARCH if mode is ClientCertificateMode.UPN else DEFAULT_USER_SEARCH,
        "ldap_permit_no_tls": False,
    }


def ledger_key(api: ManagementApi) -> str:
    return f"{api.base_url}{AUTHENTICATION}#{PASSWORD_FIELD}"


def _write(api: ManagementApi, ledger: WriteOnlyLedger, password: str, patch: dict[str, Any]) -> None:
    """One PATCH; then the password's digest when it was sent."""
    api.patch(AUTHENTICATION, {k: password if k == PASSWORD_FIELD else v for k, v in patch.items()})
    if PASSWORD_FIELD in patch:
        ledger.record(ledger_key(api), password, vouched_by=("auth.ldap-login", PLATFORM_TARGET))


def plan_connection(
    site: Site, current: dict[str, Any], password_known: bool, write: Callable[[dict[str, Any]], object]
) -> Planned | None:
    """The differing fields, the password when not known to match (or the server changes), and the
    source when it is LOCAL; one write for all of it (``write`` gets the body, the password as a marker)."""
    wanted = connection_fields(site.ldap, site.client_certificate)
    differing = {k: v for k, v in wanted.items() if current.get(k) != v}
    changes: list[Change] = []
    target = ldap_label(site)
    if differing:
        changes.append(
            Change(
                control=CONNECTION_CONTROL,
                target=target,
                setting=", ".join(differing),
                current={k: current.get(k) for k in differing},
                desired=differing,
            )
        )
    patch: dict[str, Any] = dict(differing)
    if not password_known or differing:
        patch[PASSWORD_FIELD] = None  # the secret itself is filled in by the write only
        changes.append(
            Change(
                control=CONNECTION_CONTROL,
                target=target,
                setting=PASSWORD_FIELD,
                current="not known to match the site" if not password_known else "as recorded",
                desired="the site's bind password (write-only)",
            )
        )
    source = current.get("source")
    if source not in (LDAP_AND_LOCAL, LDAP_ONLY):
        patch["source"] = LDAP_AND_LOCAL
        changes.append(
            Change(
                control=SOURCE_CONTROL,
                target=PLATFORM_TARGET,
                setting="authentication.source",
                current=source,
                desired=LDAP_AND_LOCAL,
            )
        )
    if not changes:
        return None
    return Planned(action=partial(write, patch), changes=tuple(changes))


def ensure_ldap_connection(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    loaded = ctx.site
    try:
        with service_connection(loaded):
            pass
    except DirectoryUnavailable as exc:
        return plan_of(blocked=f"the engine cannot use the site's LDAP settings, so none are written: {exc}")
    api = resources.enter_context(management_api(loaded))
    current = api.get(AUTHENTICATION)
    ledger = write_only_ledger(loaded)
    password = loaded.secret(loaded.site.ldap.bind_password).get_secret_value()
    known = ledger.matches(ledger_key(api), password)
    planned = plan_connection(loaded.site, current, known, partial(_write, api, ledger, password))
    notes = (
        ["the authentication source is LDAP only (the cut-over is done); left as it is"]
        if current.get("source") == LDAP_ONLY
        else []
    )
    return plan_of(*([planned] if planned else []), notes=notes)
