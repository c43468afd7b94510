"""Stage ``auth`` (guide: Configure user accounts and authentication settings): LDAP connection and
LDAP+LOCAL, group → role mapping, a client certificate per administrator, then the gated cut-over —
client certificates required, then LDAP only. After the cut-over every later session (the earlier
stages' verifiers on ``reverify`` too) logs in with the engine's client certificate, as recorded by
:mod:`securemode.pexip.admin_credential`.

Verify: read-back of the authentication settings and mappings on a fresh session, the service bind over
TLS with the site's CA, and behaviour on fresh HTTPS connections — each administrator's login (by
password before the cut-over, by certificate after it), each role's enforcement, the local admin refused,
no login page without a certificate, and a CA-signed certificate for a user missing from LDAP refused.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from securemode.binding import (
    Binding,
    Call,
    Planned,
    Proof,
    Target,
    call,
    checked,
    each_at_once,
    planned,
    run_sessions,
    split_excepted,
)
from securemode.ca_adapters import adapter_for
from securemode.catalogue import BY_ID, Stage
from securemode.console.access import web_target
from securemode.endpoint import Endpoint
from securemode.engine import Deferred, EnsureStep, StageSpec
from securemode.fallback_site import EXCEPTED_CONTROLS
from securemode.flows import auth_proofs
from securemode.pexip import admin_credential
from securemode.pexip.errors import TransientApiError
from securemode.results import Result, probe
from securemode.site import Administrator, Role
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.auth import ensure_client_certificates, ensure_ldap_connection, ensure_ldap_roles
from securemode.tasks.auth.client_certificates import ClientCredential, credential, identity, issue
from securemode.tasks.auth.connection import LDAP_AND_LOCAL, LDAP_ONLY, connection_fields
from securemode.verifiers import auth, auth_readback, ldap
from securemode.verifiers.api import combine

_TRANSIENT = (TransientApiError,)


STEPS = {
    step.name: step
    for step in (
        EnsureStep("ldap-connection", ensure_ldap_connection, transient_errors=_TRANSIENT),
        EnsureStep("ldap-roles", ensure_ldap_roles, transient_errors=_TRANSIENT),
        EnsureStep("client-certificates", ensure_client_certificates),
        auth_proofs.REQUIRE_CERTIFICATES,
        auth_proofs.LDAP_ONLY,
    )
}


def logins(loaded: LoadedSite) -> list[auth.Login]:
    """Password logins until client certificates are required (as recorded by the cut-over), then certificates."""
    if admin_credential.engine_client_certificate(loaded) is not None:
        return auth_proofs.certificate_logins(loaded)
    return auth_proofs.password_logins(loaded)


def stranger_refused(control: str, target: str, loaded: LoadedSite) -> Result:
    """A certificate from the site's CA for a user LDAP does not have, made now in a private temporary folder."""
    name = f"securemode-probe-{secrets.token_hex(4)}"
    stranger = Administrator(username=name, upn=f"{name}@probe.invalid", role=Role.READ_ONLY)
    mode = loaded.site.client_certificate
    with tempfile.TemporaryDirectory(prefix="securemode-probe-") as folder:
        cred = ClientCredential(name, Path(folder) / "probe.pem", Path(folder) / "probe.key")
        try:
            adapter = adapter_for(loaded)
            waiting = (
                Deferred("a person signs for the manual CA: no probe certificate is asked of them")
                if adapter.name == "manual"
                else issue(adapter, stranger, mode, cred)
            )
        except Exception as exc:
            waiting = Deferred(f"the site's CA could not issue a probe certificate: {exc}")
        if waiting is not None:
            with probe(control, target) as p:
                p.error(f"no probe certificate for a user missing from LDAP: {waiting.reason}")
            return p.result
        return auth.check_unknown_user_refused(
            control, target, web_target(loaded), (str(cred.certificate), str(cred.key)), identity(stranger, mode)
        )


def kept_certificates(loaded: LoadedSite) -> list[tuple[str, str, Path, Path]]:
    mode = loaded.site.client_certificate
    return [
        (a.username, identity(a, mode), (c := credential(loaded, a.username)).certificate, c.key)
        for a in loaded.site.administrators
    ]


def _web(verifier: Callable[..., Result]) -> Proof[LoadedSite]:
    return Proof(verifier, lambda loaded, _t: call(web_target(loaded), logins(loaded)))


def _service_bind(loaded: LoadedSite, _t: Target) -> Call:
    conf = loaded.site.ldap
    endpoint = Endpoint(conf.server, conf.port, ca_file=str(loaded.resolve_path(conf.ca_file)))
    return call(
        endpoint,
        mode=conf.tls,
        bind_dn=conf.bind_dn,
        bind_password=loaded.secret(conf.bind_password).get_secret_value(),
    )


def _site(loaded: LoadedSite, _t: Target) -> Call:
    return call(loaded)


def _bind(control: str, fix: str | None, *proofs: Proof[LoadedSite]) -> Binding[LoadedSite]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, proofs)


BINDINGS: tuple[Binding[LoadedSite], ...] = checked(
    Stage.AUTH,
    tuple(STEPS.values()),
    (
        _bind(
            "auth.ldap.connection",
            "ldap-connection",
            Proof(ldap.check_ldap_service_bind, _service_bind),
            Proof(
                auth_readback.check_authentication,
                lambda loaded, _t: call(loaded, connection_fields(loaded.site.ldap, loaded.site.client_certificate)),
            ),
        ),
        _bind(
            "auth.source.ldap-and-local",
            "ldap-connection",
            Proof(
                auth_readback.check_authentication,
                lambda loaded, _t: call(loaded, {"source": LDAP_AND_LOCAL}, {"source": LDAP_ONLY}),
            ),
        ),
        _bind("auth.ldap-roles", "ldap-roles", Proof(auth_readback.check_ldap_roles, _site)),
        _bind("auth.ldap-login", None, _web(auth.check_logins)),
        _bind("auth.role-enforcement", None, _web(auth.check_role_enforcement)),
        _bind(
            "auth.client-certificate.issued",
            "client-certificates",
            Proof(
                auth_readback.check_client_certificates,
                lambda loaded, _t: call(kept_certificates(loaded), loaded.site.client_certificate.value),
            ),
        ),
        _bind(
            "auth.client-certificate",
            "require-client-certificates",
            Proof(
                auth_readback.check_authentication,
                lambda loaded, _t: call(loaded, {"client_certificate": loaded.site.client_certificate.value}),
            ),
        ),
        _bind(
            "auth.certificate-required",
            None,
            Proof(auth.check_certificate_required, lambda loaded, _t: call(web_target(loaded))),
        ),
        _bind("auth.unknown-user-certificate-refused", None, Proof(stranger_refused, _site)),
        _bind(
            "auth.source.ldap-only",
            "ldap-only",
            Proof(auth_readback.check_authentication, lambda loaded, _t: call(loaded, {"source": LDAP_ONLY})),
        ),
        _bind(
            "auth.local-admin-refused",
            None,
            Proof(
                auth.check_local_admin_refused,
                lambda loaded, _t: call(web_target(loaded), *auth_proofs.local_admin(loaded)),
            ),
        ),
    ),
)


def plan(loaded: LoadedSite) -> list[Planned[LoadedSite]]:
    """Every auth control on every target of its kind."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """Every proof at once, each on its own fresh session or connection; on a contingency deployment the
    controls the guide excepts are NOT_APPLICABLE with the reason, and their proofs are not run."""
    runners = {"": partial(each_at_once, loaded)}
    checks, excepted = split_excepted(plan(loaded), EXCEPTED_CONTROLS if loaded.is_fallback else {})
    return [*run_sessions(checks, runners, combine), *excepted]


SPEC = StageSpec(stage=Stage.AUTH, steps=tuple(STEPS.values()), verify=verify)
