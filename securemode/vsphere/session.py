"""A logged-in vSphere session that trusts only what the site trusts, and always logs out."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from pyVim.connect import Disconnect, SmartConnect

from securemode.site import Site
from securemode.site_loader import LoadedSite
from securemode.targets import esxi_host_name
from securemode.vsphere.errors import VSphereConnectError, VSphereLoginError, VSphereTrustError
from securemode.vsphere.inventory import find_host
from securemode.vsphere.trust import PinMismatch, context_for
from securemode.vsphere.vmodl import fault_text, vim

CONNECT_TIMEOUT_S = 30


@dataclass(frozen=True)
class Endpoint:
    """Where and how to log in: host, port, user, password and the TLS context of the site's trust."""

    host: str
    port: int
    username: str
    password: SecretStr = field(repr=False)
    context: ssl.SSLContext = field(repr=False)
    esxi_host: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_site(cls, loaded: LoadedSite) -> Endpoint:
        vs = loaded.site.vsphere
        return cls(host=vs.host, port=vs.port, username=vs.username, password=loaded.secret(vs.password),
                   context=context_for(vs.trust, loaded.resolve_path), esxi_host=vs.esxi_host)


@dataclass
class VSphereSession:
    """One login: the service instance, and the ESXi host the site is about."""

    si: Any
    endpoint: Endpoint

    @property
    def content(self) -> Any:
        return self.si.RetrieveContent()

    @property
    def api_type(self) -> str:
        """``HostAgent`` when logged in to ESXi itself, ``VirtualCenter`` through vCenter."""
        return str(self.content.about.apiType)

    @property
    def user(self) -> str:
        """The user name this session runs as, as the server reports it."""
        return str(self.content.sessionManager.currentSession.userName)

    def host(self) -> Any:
        """The site's ESXi host (``vsphere.esxi_host``, or the only host)."""
        return find_host(self.content, self.endpoint.esxi_host)


def host_target(site: Site) -> str:
    """The name results about the ESXi host carry (see securemode.targets)."""
    return esxi_host_name(site)


def _login(endpoint: Endpoint) -> Any:
    try:
        return SmartConnect(  # type: ignore[no-untyped-call]
            host=endpoint.host, port=endpoint.port, user=endpoint.username, pwd=endpoint.password.get_secret_value(),
            sslContext=endpoint.context, httpConnectionTimeout=CONNECT_TIMEOUT_S)
    except PinMismatch as exc:
        raise VSphereTrustError(f"{endpoint.where}: {exc.args[0]}; check vsphere.trust.fingerprint_sha256") from None
    except ssl.SSLCertVerificationError as exc:
        raise VSphereTrustError(f"{endpoint.where}: certificate not trusted ({exc.verify_message}); "
                                "check vsphere.trust.ca_file") from None
    except vim.fault.InvalidLogin:
        raise VSphereLoginError(f"{endpoint.where}: login as '{endpoint.username}' refused "
                                "(wrong password, or the host is in lockdown mode and the user is no exception)"
                                ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise VSphereConnectError(f"{endpoint.where}: cannot connect ({type(exc).__name__}: {exc})") from None
    except vim.fault.VimFault as exc:
        raise VSphereLoginError(f"{endpoint.where}: login failed ({fault_text(exc)})") from None


@contextmanager
def open_session(endpoint: Endpoint) -> Iterator[VSphereSession]:
    """Log in, yield the session, log out (also on error)."""
    si = _login(endpoint)
    try:
        yield VSphereSession(si=si, endpoint=endpoint)
    finally:
        with suppress(Exception):  # logging out of a host that went away is not worth an error
            Disconnect(si)  # type: ignore[no-untyped-call]


@contextmanager
def open_site_session(loaded: LoadedSite) -> Iterator[VSphereSession]:
    """A session to the site's vSphere host, with the site's trust and credentials."""
    with open_session(Endpoint.from_site(loaded)) as session:
        yield session
