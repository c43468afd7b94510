"""Logging in to a node's administrator web interface: the login form with its CSRF token, or HTTP
Basic on the Management API; and whether the login page answers at all (waiting for a reboot)."""

from __future__ import annotations

import base64
import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from securemode.https.browser import RETRY_STATUSES, Browser, Reply, WebTarget
from securemode.results import Probe

LOGIN_PATH = "/admin/login/"
HOME_PATH = "/admin/"
LOGOUT_PATH = "/admin/logout/"
# Each attempt is a request with its own bounded retries; a session left behind holds one of the node's
# session slots (and the per-user limit probes count them), so a logout tries harder than a read.
LOGOUT_ATTEMPTS = 3
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


@dataclass(frozen=True)
class LoginOutcome:
    """``unavailable``: the server answered 5xx (after retries), so the login was not judged."""

    ok: bool
    detail: str
    browser: Browser
    unavailable: bool = False


def server_error(status: int) -> bool:
    return status >= 500 or status == 429


def form_login(target: WebTarget, username: str, password: str | None, p: Probe | None = None) -> LoginOutcome:
    """GET the login form, POST the credentials with its CSRF token, then GET the admin home page.

    A target that presents a client certificate has no login form to fill: the certificate is the
    credential (see :func:`certificate_login`) and no password is sent.
    """
    if target.client_certificate is not None:
        return certificate_login(target, p)
    if password is None:
        raise ValueError(f"a form login as {username} needs a password or a client certificate")
    browser = Browser(target)
    page = browser.request("GET", LOGIN_PATH)
    _log(p, f"GET {LOGIN_PATH} -> {page.status}")
    if page.status != 200:
        return LoginOutcome(False, f"login page answered {page.status}", browser, server_error(page.status))
    token = _CSRF_INPUT.search(page.text())
    form = {"username": username, "password": password, "next": HOME_PATH}
    if token:
        form["csrfmiddlewaretoken"] = token.group(1)
    referer = f"https://{target.authority}{LOGIN_PATH}"
    posted = browser.request(
        "POST",
        LOGIN_PATH,
        urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": referer},
    )
    _log(p, f"POST {LOGIN_PATH} (username={username}) -> {posted.status} {posted.header('Location') or ''}".rstrip())
    if posted.status not in (301, 302, 303) or "sessionid" not in browser.cookies:
        reason = _error_note(posted.text()) or f"HTTP {posted.status}, no session"
        if "sessionid" in browser.cookies:
            logout(browser, p)
        return LoginOutcome(False, f"login refused: {reason}", browser, server_error(posted.status))
    try:
        home = browser.request("GET", HOME_PATH)
    except BaseException:
        logout(browser, p)
        raise
    _log(p, f"GET {HOME_PATH} -> {home.status}")
    if home.status != 200:
        logout(browser, p)  # a session was opened: never leave it behind
        return LoginOutcome(False, f"admin page answered {home.status} after login", browser, server_error(home.status))
    return LoginOutcome(True, "logged in", browser)


def certificate_login(target: WebTarget, p: Probe | None = None) -> LoginOutcome:
    """With client certificates required there is no login page: the certificate opens a session on the
    first admin page it asks for (a refused certificate, or a full session table, gets no session)."""
    browser = Browser(target)
    home = browser.request("GET", HOME_PATH)
    _log(p, f"GET {HOME_PATH} by client certificate -> {home.status}")
    if home.status != 200 or "sessionid" not in browser.cookies:
        detail = f"certificate login refused: HTTP {home.status}"
        logout(browser, p)
        return LoginOutcome(False, detail, browser, server_error(home.status))
    return LoginOutcome(True, "logged in by client certificate", browser)


def logout(browser: Browser, p: Probe | None = None) -> None:
    """End the browser's session (best effort: a failure is logged, never raised, so it can sit in
    ``finally``); the cookie jar forgets the session either way."""
    if "sessionid" not in browser.cookies:
        return
    for _ in range(LOGOUT_ATTEMPTS):
        try:
            reply = browser.request("GET", LOGOUT_PATH)
        except (OSError, http.client.HTTPException) as exc:
            _log(p, f"GET {LOGOUT_PATH} failed: {exc}")
            continue
        _log(p, f"GET {LOGOUT_PATH} -> {reply.status}")
        if reply.status not in RETRY_STATUSES:
            break
    browser.cookies.pop("sessionid", None)


def basic_auth(username: str, password: str) -> str:
    """The value of an HTTP Basic Authorization header."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def basic_get(target: WebTarget, username: str, password: str | None, path: str) -> Reply:
    """A Management API GET: HTTP Basic, or (a target presenting a client certificate) the certificate alone."""
    headers = {"Accept": "application/json"}
    if target.client_certificate is None:
        if password is None:
            raise ValueError(f"an API read as {username} needs a password or a client certificate")
        headers["Authorization"] = basic_auth(username, password)
    return Browser(target).request("GET", path, headers=headers)


def _error_note(html: str) -> str:
    match = re.search(r'id="login-error">([^<]*)<', html) or re.search(r'class="errornote"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else ""


def _log(p: Probe | None, line: str) -> None:
    if p is not None:
        p.log(line)


def reachable(web: WebTarget) -> bool:
    """True when the login page answers 200 over a verified connection (used to wait for a reboot).

    A certificate that does not match the trust raises :class:`UntrustedPeer`: that is no reason to wait.
    """
    try:
        return Browser(web).request("GET", LOGIN_PATH).status == 200
    except (OSError, http.client.HTTPException):
        return False
