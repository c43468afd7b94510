"""Read-back of the auth stage's settings on a fresh Management API session (whatever credential the
engine logs in with now: the password, or its client certificate after the cut-over), and of the
administrators' client certificates the engine keeps.

Settings whose proof is behaviour (logins, refusals) are judged in :mod:`securemode.verifiers.auth`; the
read-back says what the node is configured to do. The node that cannot be read is ERROR.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from securemode.pexip import admin_credential
from securemode.pexip.client import config_uri
from securemode.pexip.connect import management_api
from securemode.results import JsonValue, Result, probe
from securemode.site_loader import LoadedSite

AUTHENTICATION = config_uri("authentication", 1)
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
RENEW_BEFORE = dt.timedelta(days=30)


def _norm(dn: str) -> str:
    return ",".join("=".join(p.strip() for p in rdn.split("=", 1)) for rdn in dn.lower().split(","))


def check_authentication(
    control: str,
    target: str,
    loaded: LoadedSite,
    expected: Mapping[str, Any],
    superseded: Mapping[str, Any] | None = None,
) -> Result:
    """The authentication fields equal ``expected``; NOT_APPLICABLE when they equal ``superseded`` (a later
    step of the cut-over replaced this state on purpose)."""
    with probe(control, target, expected=dict(expected)) as p:
        try:
            with management_api(loaded) as api:
                now = api.get(AUTHENTICATION)
        except Exception as exc:
            p.error(f"cannot read the authentication settings: {exc}")
            return p.result
        seen: dict[str, JsonValue] = {k: now.get(k) for k in expected}
        if superseded and all(now.get(k) == v for k, v in superseded.items()):
            p.not_applicable(f"superseded by the cut-over: {dict(superseded)}")
        else:
            wrong = {k: v for k, v in seen.items() if v != expected[k]}
            why = admin_credential.last_rollback(loaded, control)
            note = f"; the last switch was {why}" if why else ""
            p.check(not wrong, seen, f"differs from the site: {wrong}{note}")
    return p.result


def check_ldap_roles(control: str, target: str, loaded: LoadedSite) -> Result:
    """One ldap_role per site group, holding exactly the site's roles; none for a group the site does not map."""
    want = {_norm(dn): sorted({r.value for r in roles}) for dn, roles in loaded.site.ldap.group_roles.items()}
    with probe(control, target, expected=want) as p:
        try:
            with management_api(loaded) as api:
                names = {str(r["resource_uri"]): str(r["name"]) for r in api.iter_objects("role")}
                mappings = list(api.iter_objects("ldap_role"))
        except Exception as exc:
            p.error(f"cannot read the LDAP role mappings: {exc}")
            return p.result
        seen: dict[str, JsonValue] = {}
        for m in mappings:
            roles = [r if isinstance(r, str) else str(r.get("resource_uri")) for r in m.get("roles", [])]
            seen[_norm(str(m.get("ldap_group_dn", "")))] = sorted(names.get(r, r) for r in roles)
        p.check(seen == want, seen, f"the node maps {seen}")
    return p.result


def _identity(cert: x509.Certificate, mode: str) -> str | None:
    if mode == "CN":
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(cns[0].value) if cns else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    values = [o.value for o in san.get_values_for_type(x509.OtherName) if o.type_id == UPN_OID]
    return values[0][2:].decode("utf-8", "replace") if values and values[0][:1] == b"\x0c" else None


def _certificate_problem(cert_file: Path, key_file: Path, identity: str, mode: str, now: dt.datetime) -> str | None:
    if not cert_file.is_file() or not key_file.is_file():
        return "none kept"
    if key_file.stat().st_mode & 0o077:
        return "its key is readable by others"
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        return "the certificate does not hold the kept key"
    if (found := _identity(cert, mode)) != identity:
        return f"names {found!r}, not {identity!r}"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"expires {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


def check_client_certificates(
    control: str, target: str, kept: Sequence[tuple[str, str, Path, Path]], mode: str
) -> Result:
    """Each administrator (username, identity, certificate file, key file) has a usable certificate kept:
    their identity in the site's form, its own key (owner-only), more than 30 days left."""
    with probe(control, target, expected={user: f"{mode}={ident}" for user, ident, _c, _k in kept}) as p:
        if not kept:
            p.error("the site names no administrator")
            return p.result
        now = dt.datetime.now(dt.UTC)
        found: dict[str, JsonValue] = {u: _certificate_problem(c, k, i, mode, now) or "ok" for u, i, c, k in kept}
        bad = {u: f for u, f in found.items() if f != "ok"}
        p.check(not bad, found, "; ".join(f"{u}: {f}" for u, f in bad.items()))
    return p.result
