"""The proofs the auth stage's cut-over runs before and after each switch, built from the verifiers.

The cut-over (:mod:`securemode.tasks.auth.cutover`) takes them as callables: tasks cannot import
verifiers, so the wiring lives here, above both. Every proof runs on fresh HTTPS connections.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from securemode.console.access import web_target
from securemode.engine import EnsureStep
from securemode.pexip.connect import management_api
from securemode.results import Result, probe
from securemode.site import Role
from securemode.site_loader import LoadedSite
from securemode.targets import PLATFORM_TARGET
from securemode.tasks.auth.client_certificates import credential
from securemode.tasks.auth.cutover import engine_administrator, ensure_client_certificate_required, ensure_ldap_only
from securemode.verifiers import auth

LOGIN, CERTIFICATE, LOCAL = "auth.ldap-login", "auth.client-certificate", "auth.local-admin-refused"
REQUIRE_CERTIFICATES_GATE, LDAP_ONLY_GATE = "auth.require-client-certificate", "auth.ldap-only"


def password_logins(loaded: LoadedSite) -> list[auth.Login]:
    return [
        auth.Login(a.username, a.role.value, loaded.secret(a.password).get_secret_value())
        for a in loaded.site.administrators
        if a.password
    ]


def certificate_logins(loaded: LoadedSite) -> list[auth.Login]:
    creds = [(a, credential(loaded, a.username)) for a in loaded.site.administrators]
    return [auth.Login(a.username, a.role.value, certificate=(str(c.certificate), str(c.key))) for a, c in creds]


def engine_login(loaded: LoadedSite) -> list[auth.Login]:
    engine = engine_administrator(loaded)
    return [lg for lg in certificate_logins(loaded) if engine is not None and lg.username == engine.username]


def local_admin(loaded: LoadedSite) -> tuple[str, str]:
    node = loaded.site.management_node
    return node.admin_username, loaded.secret(node.admin_password).get_secret_value()


def every_role_has_a_password_login(loaded: LoadedSite) -> Result:
    with probe(LOGIN, PLATFORM_TARGET, expected="an administrator with a password per role") as p:
        have = {a.role for a in loaded.site.administrators if a.password}
        missing = [r.value for r in Role if r not in have]
        p.check(
            not missing,
            sorted(r.value for r in have),
            f"no administrator with a password for role(s) {', '.join(missing)}: their LDAP login is unproven",
        )
    return p.result


def node_trusted_cas(loaded: LoadedSite) -> list[str]:
    with management_api(loaded) as api:
        return [str(o["certificate"]) for o in api.iter_objects("ca_certificate") if o.get("certificate")]


def before_certificates(loaded: LoadedSite) -> Sequence[Result]:
    """An LDAP login per role by password, and the engine's certificate signed by a CA the node trusts."""
    web = web_target(loaded)
    engine = engine_administrator(loaded)
    results = [
        every_role_has_a_password_login(loaded),
        auth.check_logins(LOGIN, PLATFORM_TARGET, web, password_logins(loaded)),
    ]
    if engine is not None:
        results.append(
            auth.check_issuer_trusted(
                CERTIFICATE,
                PLATFORM_TARGET,
                str(credential(loaded, engine.username).certificate),
                node_trusted_cas(loaded),
            )
        )
    return results


def certificate_sessions(loaded: LoadedSite) -> Sequence[Result]:
    """Every administrator in by their certificate, on fresh sessions."""
    return [auth.check_logins(LOGIN, PLATFORM_TARGET, web_target(loaded), certificate_logins(loaded))]


def local_admin_logs_in(loaded: LoadedSite) -> Sequence[Result]:
    user, password = local_admin(loaded)
    return [auth.check_logins(LOGIN, PLATFORM_TARGET, web_target(loaded), [auth.Login(user, "local", password)])]


def after_ldap_only(loaded: LoadedSite) -> Sequence[Result]:
    """The local admin refused, and the certificate administrators still get in."""
    web = web_target(loaded)
    return [
        auth.check_local_admin_refused(LOCAL, PLATFORM_TARGET, web, *local_admin(loaded)),
        *certificate_sessions(loaded),
    ]


def engine_logs_in(loaded: LoadedSite) -> Sequence[Result]:
    return [auth.check_logins(LOGIN, PLATFORM_TARGET, web_target(loaded), engine_login(loaded))]


REQUIRE_CERTIFICATES = EnsureStep(
    "require-client-certificates",
    partial(ensure_client_certificate_required, before_certificates, certificate_sessions, local_admin_logs_in),
    gated=REQUIRE_CERTIFICATES_GATE,
)
LDAP_ONLY = EnsureStep(
    "ldap-only", partial(ensure_ldap_only, certificate_sessions, after_ldap_only, engine_logs_in), gated=LDAP_ONLY_GATE
)
