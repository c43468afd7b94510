"""One request through the node: faults, host-header validation, then the API or the web surface.

API authentication: with client_certificate ≠ NO the identity comes only from the verified
certificate (Basic is ignored unless the config allows a fallback); otherwise HTTP Basic against the
configured sources. A keep-alive connection authenticated before the authentication settings changed
keeps the principal it had, for the same credentials, until it closes (idle timeout), even when the
settings or the directory change under it: it is a session, as the web interface's is (a lab model [?];
it is what lets an administrator undo a switch from the session made before it).
Every call needs "Is an administrator" and "May use API" plus the operation's own
permission; the local admin has them all.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass

from securemode.infra.twin.api.router import ApiRouter
from securemode.infra.twin.auth.authenticator import Authenticator, Principal
from securemode.infra.twin.errors import ApiError
from securemode.infra.twin.faults import FaultInjector
from securemode.infra.twin.request import Request
from securemode.infra.twin.response import Response
from securemode.infra.twin.state.twin_state import TwinState
from securemode.infra.twin.web.app import WebApp

log = logging.getLogger("securemode.infra.twin.http")


@dataclass(frozen=True)
class Reset:
    """Sentinel: drop the connection with a TCP reset instead of answering."""


def _api_error(exc: ApiError) -> Response:
    headers = list(exc.headers.items())
    if exc.body is None:
        return Response.empty(exc.status, headers)
    return Response(exc.status, json.dumps(exc.body).encode(), "application/json", headers)


class Dispatcher:
    def __init__(self, state: TwinState, auth: Authenticator, web: WebApp, faults: FaultInjector) -> None:
        self.state = state
        self.auth = auth
        self.web = web
        self.faults = faults
        self.router = ApiRouter(state)

    def handle(self, req: Request) -> Response | Reset:
        decision = self.faults.decide(req.method, req.path)
        if decision.delay_s:
            time.sleep(decision.delay_s)
        if decision.reset:
            return Reset()
        if decision.status is not None:
            headers = [("Retry-After", str(decision.retry_after))] if decision.retry_after is not None else []
            return Response.json(decision.status, {"error": "Injected fault"}, headers)
        try:
            if not self._host_allowed(req):
                return Response.html(400, "<h1>Bad Request (400)</h1>")
            if req.path.startswith("/api/"):
                return self._api(req)
            return self.web.handle(req)
        except ApiError as exc:
            return _api_error(exc)
        except Exception:
            log.exception("unhandled error on %s %s", req.method, req.path)
            return Response.json(500, {"error": "Internal server error"})

    # host header ------------------------------------------------------------------------------------
    def allowed_hosts(self) -> set[str]:
        names = set(self.state.config.extra_allowed_hosts)
        for node in self.state.store.all("management_vm"):
            for key in ("address", "hostname", "alternative_fqdn", "ipv6_address"):
                if node.get(key):
                    names.add(str(node[key]).lower())
            if node.get("hostname") and node.get("domain"):
                names.add(f"{node['hostname']}.{node['domain']}".lower())
        return names

    def _host_allowed(self, req: Request) -> bool:
        if not self.state.security_settings().validate_host_headers:
            return True
        return req.host.lower().rstrip(".") in self.allowed_hosts()

    # API --------------------------------------------------------------------------------------------
    def _api(self, req: Request) -> Response:
        route = self.router.resolve(req.method, req.path)
        principal = self._api_principal(req)
        needed = ["is_admin", "use_api"] + ([route.permission] if route.permission else [])
        if not all(principal.may(p) for p in needed):
            return Response.json(
                self.state.config.forbidden_status, {"error": "You do not have permission to perform this action."}
            )
        return self.router.execute(route, req.query, req.body, req.path, principal.username)

    def _api_principal(self, req: Request) -> Principal:
        """The caller; a connection opened under other authentication settings keeps its principal."""
        settings = repr(sorted(self.state.authentication().items()))
        key = (req.headers.get("authorization", ""), req.peer_cert_der)
        held = (req.connection or {}).get("principal")
        if held is not None and held[0] == key and (held[1] != settings or held[3]):
            if held[1] != settings and req.connection is not None:
                req.connection["principal"] = (*held[:3], True)  # outlived a change: a session from now on
            return held[2]  # type: ignore[no-any-return]
        principal = self._authenticate(req)
        if req.connection is not None:
            req.connection["principal"] = (key, settings, principal, False)
        return principal

    def _authenticate(self, req: Request) -> Principal:
        realm = self.state.config.basic_realm
        unauthorized = ApiError(401, None, {"WWW-Authenticate": f'Basic Realm="{realm}"'})
        if self.auth.client_certificate_mode != "NO":
            principal = self.auth.certificate_login(req.peer_cert_der)
            if principal is not None:
                return principal
            if not self.state.config.client_cert_api_basic_fallback:
                # A refused attempt is still an audit event, under the name it claimed (if any) [?]
                tried = _basic(req.headers.get("authorization", ""))
                self.state.store.audit((tried[0][:64] if tried else "") or "-", "login_failed",
                                       "API request without a valid client certificate refused")
                raise ApiError(self.state.config.forbidden_status, {"error": "A valid client certificate is required."})
        credentials = _basic(req.headers.get("authorization", ""))
        if credentials is None:
            raise unauthorized
        principal = self.auth.password_login(*credentials)
        if principal is None:
            # Like the web login form, a refused API login is an audit event (sent to syslog by the node).
            self.state.store.audit(credentials[0][:64] or "-", "login_failed", "API login refused")
            raise unauthorized
        return principal


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None
