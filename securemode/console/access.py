"""How the engine reaches a site's Management Node for bootstrap: console, web, pins and evidence.

The lab and a real deployment use the standard ports (SSH 22, HTTPS 443) on the node's address; the
console host-key pins and the security-wizard evidence live in the site's state folder beside the
HTTPS certificate pins of :mod:`securemode.pexip.trust`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import SecretStr

from securemode.console.client import ConsoleClient, ConsoleEndpoint
from securemode.console.pins import HostKeyPins
from securemode.https.browser import WebTarget
from securemode.pexip import admin_credential
from securemode.pexip.state import safe_name, site_dir
from securemode.pexip.trust import CaBundle, choose_trust, known_pin, site_ca_bundle
from securemode.problems import InputError, Problem
from securemode.site import Trust
from securemode.site_loader import LoadedSite

CONSOLE_PORT = 22
HTTPS_PORT = 443


def check_inputs(loaded: LoadedSite) -> None:
    """Everything bootstrap needs from the site, checked before anything changes."""
    node = loaded.site.management_node
    problems: list[Problem] = []
    if node.gateway is None:
        problems.append(Problem(field="management_node.gateway", message="is required by the installation wizard",
                                fix="add the Management Node's default gateway"))
    if not loaded.site.dns_servers:
        problems.append(Problem(field="dns_servers", message="the installation wizard needs at least one",
                                fix="list the site's DNS servers"))
    if not loaded.site.ntp_servers:
        problems.append(Problem(field="ntp_servers", message="the installation wizard needs at least one",
                                fix="list the site's NTP servers"))
    if problems:
        raise InputError(str(loaded.path), problems)


def admin_password(loaded: LoadedSite) -> SecretStr:
    """The Management Node admin password (console and web, as the installation wizard sets both)."""
    return loaded.secret(loaded.site.management_node.admin_password)


def console_pins(loaded: LoadedSite) -> HostKeyPins:
    return HostKeyPins(site_dir(loaded) / "console_known_hosts")


def console_endpoint(loaded: LoadedSite) -> ConsoleEndpoint:
    return ConsoleEndpoint(str(loaded.site.management_node.address), CONSOLE_PORT)


def console_client(loaded: LoadedSite) -> ConsoleClient:
    return ConsoleClient(console_endpoint(loaded), admin_password(loaded), console_pins(loaded))


def web_target(loaded: LoadedSite) -> WebTarget:
    """The node's web interface with the trust that holds now (CA chain, else the recorded pin or the
    site file's fingerprint).

    Raises :class:`securemode.pexip.errors.TrustError` when neither holds (fail closed).
    """
    node = loaded.site.management_node
    host = str(node.address)
    chosen = choose_trust(host, HTTPS_PORT, node.fqdn, site_ca_bundle(loaded), known_pin(loaded, host))
    if isinstance(chosen, CaBundle):
        return WebTarget(host, Trust(ca_file=str(chosen.path)), HTTPS_PORT, server_name=chosen.server_name)
    return WebTarget(host, Trust(fingerprint_sha256=chosen.sha256), HTTPS_PORT)


LDAP_ONLY_SOURCE = "LDAP"
LOCAL_LOGIN_SUPERSEDED = "local authentication disabled by auth.source.ldap-only"
LOGIN_PAGE_SUPERSEDED = (
    "the login page is replaced by client-certificate login (auth.client-certificate): the local admin's "
    "password has no web login to prove"
)


@dataclass(frozen=True)
class WebAdmin:
    """How the engine logs in to the node's web interface and API now: the local admin's password until
    the auth stage's cut-over requires client certificates, then the engine administrator's certificate
    (carried by ``target``; no password is sent then)."""

    target: WebTarget
    username: str
    password: str | None = field(default=None, repr=False)

    @property
    def by_certificate(self) -> bool:
        return self.target.client_certificate is not None


def web_admin(loaded: LoadedSite) -> WebAdmin:
    """The one place that picks the web/API credential, read from the record ``management_api()`` uses."""
    target = web_target(loaded)
    certificate = admin_credential.engine_client_certificate(loaded)
    if certificate is not None:
        user = admin_credential.recorded(loaded).get("engine_user") or "the engine's administrator"
        return WebAdmin(replace(target, client_certificate=certificate), f"{user} (client certificate)")
    return WebAdmin(target, loaded.site.management_node.admin_username, admin_password(loaded).get_secret_value())


def local_web_login_superseded(loaded: LoadedSite) -> str | None:
    """Why the local admin's password web login is no longer there to prove (None while it is)."""
    if admin_credential.recorded(loaded).get("source") == LDAP_ONLY_SOURCE:
        return LOCAL_LOGIN_SUPERSEDED
    if admin_credential.engine_client_certificate(loaded) is not None:
        return LOGIN_PAGE_SUPERSEDED
    return None


def evidence_path(loaded: LoadedSite) -> Path:
    """Where the security wizard's run is recorded (what it showed, what we answered, when)."""
    folder = site_dir(loaded) / "evidence"
    folder.mkdir(exist_ok=True, mode=0o700)
    return folder / f"{safe_name(loaded.site.management_node.name)}-securitywizard.json"
