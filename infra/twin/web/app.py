"""The administrator web surface: Django-style login with CSRF, idle timeout, session limits, and
pages guarded by permissions. With a client certificate required, there is no login page at all."""

from __future__ import annotations

import secrets
import time
from urllib.parse import quote

from securemode.infra.twin.api.commands import snapshot
from securemode.infra.twin.auth.authenticator import Authenticator, Principal
from securemode.infra.twin.request import Request
from securemode.infra.twin.response import Response
from securemode.infra.twin.state.twin_state import TwinState
from securemode.infra.twin.web import pages
from securemode.infra.twin.web.sessions import Session, SessionLimitReached, SessionStore

BAD_LOGIN = "Please enter the correct username and password. Note that both fields may be case-sensitive."
LIMIT_REACHED = "The maximum number of active management web sessions has been reached."
COOKIE_FLAGS = "; Path=/; Secure; HttpOnly; SameSite=Lax"


def _redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers = [("Location", location)] + [("Set-Cookie", c) for c in cookies or []]
    return Response.empty(302, headers)


class WebApp:
    def __init__(self, state: TwinState, auth: Authenticator, sessions: SessionStore) -> None:
        self.state = state
        self.auth = auth
        self.sessions = sessions

    # settings-driven knobs --------------------------------------------------------------------------
    def idle_timeout_s(self) -> float | None:
        glob = self.state.store.get("global", 1) or {}
        if not glob.get("session_timeout_enabled", True):
            return None
        return float(glob.get("management_session_timeout", 30)) * self.state.config.session_minute_seconds

    def _new_session(self, principal: Principal) -> Session:
        sec = self.state.security_settings()
        return self.sessions.create(
            principal,
            self.idle_timeout_s(),
            sec.max_web_sessions,
            sec.max_web_sessions_per_user,
            self.state.config.session_limit_policy == "evict_oldest",
        )

    # dispatch ---------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path in ("/", "/admin"):
            return _redirect("/admin/")
        if req.path == "/admin/login/":
            return self._login(req)
        if req.path == "/admin/logout/":
            self.sessions.delete(req.cookies.get("sessionid"))
            return _redirect("/admin/login/", [f"sessionid=; Max-Age=0{COOKIE_FLAGS}"])
        if not req.path.startswith("/admin/"):
            return Response.html(404, pages.message("Not found", "The requested page was not found."))
        if req.method not in ("GET", "HEAD"):
            return Response.html(
                405, pages.message("Method not allowed", "Method not allowed."), [("Allow", "GET, HEAD")]
            )
        session, cookies = self._session(req)
        if session is None:
            if self.auth.client_certificate_mode != "NO":
                return Response.html(403, pages.message("Access denied", "A valid client certificate is required."))
            return _redirect(f"/admin/login/?next={quote(req.path)}")
        response = self._page(req, session.principal)
        response.headers += [("Set-Cookie", c) for c in cookies]
        return response

    def _session(self, req: Request) -> tuple[Session | None, list[str]]:
        """The caller's live session; in client-certificate mode one is opened from the certificate."""
        session = self.sessions.get(req.cookies.get("sessionid"), self.idle_timeout_s())
        if self.auth.client_certificate_mode == "NO":
            return session, []
        principal = self.auth.certificate_login(req.peer_cert_der)
        if principal is None or not (principal.may("is_admin") and principal.may("use_web")):
            return None, []
        if session is not None and session.principal.username == principal.username:
            return session, []
        try:
            session = self._new_session(principal)
        except SessionLimitReached:
            return None, []
        self.state.store.audit(principal.username, "login", "certificate login")
        return session, [f"sessionid={session.sid}{COOKIE_FLAGS}"]

    def _page(self, req: Request, principal: Principal) -> Response:
        denied = Response.html(403, pages.message("Access denied", "You do not have permission to view this page."))
        if req.path == "/admin/":
            links = [
                ("/admin/logs/", "Administrator log"),
                ("/admin/settings/", "Global settings"),
                ("/admin/snapshot/", "Diagnostic snapshot"),
            ]
            return Response.html(200, pages.dashboard(principal.username, links))
        if req.path == "/admin/logs/":
            if not principal.may("view_logs"):
                return denied
            events = self.state.audit_events()[-200:]
            rows = [
                (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e["ts"])), f"{e['user']} {e['action']} {e['detail']}")
                for e in events
            ]
            return Response.html(200, pages.table("Administrator log", rows))
        if req.path == "/admin/settings/":
            if not principal.may("view_configuration"):
                return denied
            glob = self.state.global_settings()
            return Response.html(200, pages.table("Global settings", [(k, str(v)) for k, v in sorted(glob.items())]))
        if req.path == "/admin/snapshot/":
            if not principal.may("generate_snapshot"):
                return denied
            return snapshot(self.state.ctx(principal.username), {})
        return Response.html(404, pages.message("Not found", "The requested page was not found."))

    # login ------------------------------------------------------------------------------------------
    def _login(self, req: Request) -> Response:
        if self.auth.client_certificate_mode != "NO":
            # "When a client certificate is required, the standard login page is no longer presented."
            session, cookies = self._session(req)
            if session is None:
                return Response.html(403, pages.message("Access denied", "A valid client certificate is required."))
            return _redirect("/admin/", cookies)
        banner = str((self.state.store.get("global", 1) or {}).get("logon_banner") or "")
        csrf = req.cookies.get("csrftoken") or secrets.token_urlsafe(24)
        csrf_cookie = [("Set-Cookie", f"csrftoken={csrf}; Path=/; Secure; SameSite=Lax")]
        next_url = req.query.get("next", ["/admin/"])[-1]
        if req.method in ("GET", "HEAD"):
            return Response.html(200, pages.login(banner, csrf, next_url), csrf_cookie)
        if req.method != "POST":
            return Response.html(
                405, pages.message("Method not allowed", "Method not allowed."), [("Allow", "GET, HEAD, POST")]
            )
        form = req.form()
        if self.state.config.require_csrf and (
            not req.cookies.get("csrftoken") or form.get("csrfmiddlewaretoken") != req.cookies.get("csrftoken")
        ):
            return Response.html(403, pages.message("Forbidden", "CSRF verification failed. Request aborted."))
        next_url = form.get("next") or "/admin/"
        if not next_url.startswith("/") or next_url.startswith("//"):
            next_url = "/admin/"
        username = form.get("username", "")
        principal = self.auth.password_login(username, form.get("password", ""))
        if principal is None or not (principal.may("is_admin") and principal.may("use_web")):
            self.state.store.audit(username[:64] or "-", "login_failed", "web login refused")
            return Response.html(200, pages.login(banner, csrf, next_url, BAD_LOGIN), csrf_cookie)
        try:
            session = self._new_session(principal)
        except SessionLimitReached:
            self.state.store.audit(username, "login_failed", "session limit reached")
            return Response.html(200, pages.login(banner, csrf, next_url, LIMIT_REACHED), csrf_cookie)
        self.state.store.audit(username, "login", f"web login ({principal.source})")
        return _redirect(next_url, [f"sessionid={session.sid}{COOKIE_FLAGS}"])
