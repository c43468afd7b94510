"""Probes of a node's administrator web interface, made the way a browser or an intruder would.

* :func:`login` — the guide's step 5: log in with the configured credentials (the login form with
  its CSRF token, or HTTP Basic on the Management API) and reach an authenticated page.
* :func:`host_header` — with host-header validation on, a request naming a foreign Host is refused
  while one naming the node is served.
* :func:`session_limit_per_user` / :func:`session_limit` — open sessions up to the limit, see the
  next one refused, then log every one of them out again.
* :func:`fips_ciphers` — under FIPS 140-2 mode the HTTPS service offers no non-approved cipher:
  a client offering only ChaCha20-Poly1305 (not FIPS-approved) cannot connect.
* :func:`api_field` — a fresh, read-only Management API GET of one field.

Every request opens its own TLS connection, verified against the given trust (a CA file, or the
pinned SHA-256 fingerprint of the node's certificate before the PKI stage): a mismatch is ERROR and
no request — and so no password — is ever sent to an unverified peer.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from securemode.endpoint import Endpoint
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe
from securemode.site import Trust
from verifiers import tls

DEFAULT_TIMEOUT_S = 5.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})  # transient: retried, then ERROR — never a FAIL
RETRY_BACKOFF_S = (0.2, 0.5, 1.0, 2.0)
LOGIN_PATH = "/admin/login/"
HOME_PATH = "/admin/"
LOGOUT_PATH = "/admin/logout/"
FOREIGN_HOST = "attacker.invalid"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


class UntrustedPeer(Exception):
    """The node's certificate does not match the trust we were given; nothing was sent."""


@dataclass(frozen=True)
class WebTarget:
    """Where a node's web interface is and how to trust it; ``host_name`` is what goes in Host."""

    host: str
    trust: Trust
    port: int = 443
    host_name: str | None = None
    server_name: str | None = None  # name the certificate must hold when trusting a CA (default: host)
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def authority(self) -> str:
        name = self.host_name or self.host
        shown = f"[{name}]" if ":" in name else name
        return shown if self.port == 443 else f"{shown}:{self.port}"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in self.headers:
            if key.lower() != "set-cookie":
                continue
            try:
                jar: SimpleCookie = SimpleCookie(value)
            except CookieError:
                continue
            out.update({name: morsel.value for name, morsel in jar.items()})
        return out

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _fingerprint(value: str) -> str:
    return value.replace(":", "").lower()


class _VerifiedConnection(http.client.HTTPSConnection):
    """HTTPS whose peer is checked right after the handshake, before a byte of the request is sent."""

    def __init__(self, target: WebTarget) -> None:
        trust = target.trust
        if trust.ca_file is not None:
            context = ssl.create_default_context(cafile=trust.ca_file)
            context.check_hostname = True
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the pinned fingerprint below is the trust decision
        super().__init__(target.host, target.port, timeout=target.timeout_s, context=context)
        self._tls = context
        self._server_name = target.server_name or target.host
        self._pin = _fingerprint(trust.fingerprint_sha256) if trust.fingerprint_sha256 else None

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)
        except BaseException:
            raw.close()
            raise
        if self._pin is not None:
            der = sock.getpeercert(binary_form=True) or b""
            if hashlib.sha256(der).hexdigest() != self._pin:
                sock.close()
                raise UntrustedPeer("the node's certificate does not match the pinned SHA-256 fingerprint")
        self.sock = sock


@dataclass
class Browser:
    """A cookie jar and one verified connection per request, like a careful browser."""

    target: WebTarget
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                host: str | None = None) -> Reply:
        """One request; a 5xx/429 answer or a timeout/reset is retried (bounded, with backoff). The last
        answer is returned (still 5xx: the caller's ERROR), or the last connection error raised."""
        for delay in (*RETRY_BACKOFF_S, None):
            try:
                reply = self._once(method, path, body, headers, host)
            except (TimeoutError, ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected):
                if delay is None:
                    raise
            else:
                if reply.status not in RETRY_STATUSES or delay is None:
                    return reply
            time.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises on its last pass

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None,
              host: str | None) -> Reply:
        conn = _VerifiedConnection(self.target)
        all_headers = {"Host": host or self.target.authority, "User-Agent": "securemode-verifier",
                       "Accept": "text/html,application/json", "Connection": "close", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            reply = Reply(response.status, response.getheaders(), response.read())
        finally:
            conn.close()
        self.cookies.update({k: v for k, v in reply.cookies().items() if v})
        for gone in [k for k, v in reply.cookies().items() if not v]:
            self.cookies.pop(gone, None)
        return reply


@dataclass(frozen=True)
class LoginOutcome:
    """``unavailable``: the server answered 5xx (after retries), so the login was not judged."""

    ok: bool
    detail: str
    browser: Browser
    unavailable: bool = False


def _server_error(status: int) -> bool:
    return status >= 500 or status == 429


def form_login(target: WebTarget, username: str, password: str, p: Probe | None = None) -> LoginOutcome:
    """GET the login form, POST the credentials with its CSRF token, then GET the admin home page."""
    browser = Browser(target)
    page = browser.request("GET", LOGIN_PATH)
    _log(p, f"GET {LOGIN_PATH} -> {page.status}")
    if page.status != 200:
        return LoginOutcome(False, f"login page answered {page.status}", browser, _server_error(page.status))
    token = _CSRF_INPUT.search(page.text())
    form = {"username": username, "password": password, "next": HOME_PATH}
    if token:
        form["csrfmiddlewaretoken"] = token.group(1)
    referer = f"https://{target.authority}{LOGIN_PATH}"
    posted = browser.request("POST", LOGIN_PATH, urlencode(form).encode(),
                             {"Content-Type": "application/x-www-form-urlencoded", "Referer": referer})
    _log(p, f"POST {LOGIN_PATH} (username={username}) -> {posted.status} {posted.header('Location') or ''}".rstrip())
    if posted.status not in (301, 302, 303) or "sessionid" not in browser.cookies:
        reason = _error_note(posted.text()) or f"HTTP {posted.status}, no session"
        if "sessionid" in browser.cookies:
            logout(browser, p)
        return LoginOutcome(False, f"login refused: {reason}", browser, _server_error(posted.status))
    try:
        home = browser.request("GET", HOME_PATH)
    except BaseException:
        logout(browser, p)
        raise
    _log(p, f"GET {HOME_PATH} -> {home.status}")
    if home.status != 200:
        logout(browser, p)  # a session was opened: never leave it behind
        return LoginOutcome(False, f"admin page answered {home.status} after login", browser,
                            _server_error(home.status))
    return LoginOutcome(True, "logged in", browser)


def logout(browser: Browser, p: Probe | None = None) -> None:
    """End the browser's session (best effort: a failure is logged, never raised, so it can sit in
    ``finally``); the cookie jar forgets the session either way."""
    if "sessionid" not in browser.cookies:
        return
    try:
        reply = browser.request("GET", LOGOUT_PATH)
        _log(p, f"GET {LOGOUT_PATH} -> {reply.status}")
    except (OSError, http.client.HTTPException) as exc:
        _log(p, f"GET {LOGOUT_PATH} failed: {exc}")
    browser.cookies.pop("sessionid", None)


def basic_auth(username: str, password: str) -> str:
    """The value of an HTTP Basic Authorization header."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def basic_get(target: WebTarget, username: str, password: str, path: str) -> Reply:
    return Browser(target).request("GET", path, headers={"Authorization": basic_auth(username, password),
                                                         "Accept": "application/json"})


def _error_note(html: str) -> str:
    match = re.search(r'id="login-error">([^<]*)<', html) or re.search(r'class="errornote"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else ""


def _log(p: Probe | None, line: str) -> None:
    if p is not None:
        p.log(line)


def _secrets(*values: str) -> None:
    for value in values:
        register_secret(value)


# probes -----------------------------------------------------------------------------------------------
def login(control: str, target: str, web: WebTarget, username: str, password: str, mode: str = "form") -> Result:
    """PASS when the configured credentials log in (``form``: the admin web page; ``basic``: the API)."""
    _secrets(password)
    with probe(control, target, expected=f"{mode} login as {username} succeeds") as p:
        if mode == "basic":
            path = "/api/admin/configuration/v1/global/1/"
            reply = basic_get(web, username, password, path)
            p.log(f"GET {path} with Basic ({username}) -> {reply.status}")
            if _server_error(reply.status):
                p.error(f"the API is unavailable: HTTP {reply.status}", {"status": reply.status})
            else:
                p.check(reply.status == 200, {"status": reply.status}, f"the API answered {reply.status}")
        else:
            outcome = form_login(web, username, password, p)
            try:
                if outcome.unavailable:
                    p.error(f"the web interface is unavailable: {outcome.detail}", outcome.detail)
                else:
                    p.check(outcome.ok, outcome.detail, outcome.detail)
            finally:
                logout(outcome.browser, p)
    return p.result


def host_header(control: str, target: str, web: WebTarget, foreign_host: str = FOREIGN_HOST) -> Result:
    """PASS when a foreign Host header is refused and the node's own name is served."""
    with probe(control, target, expected=f"Host: {foreign_host} refused; Host: {web.authority} served") as p:
        browser = Browser(web)
        foreign = browser.request("GET", LOGIN_PATH, host=foreign_host)
        p.log(f"GET {LOGIN_PATH} Host: {foreign_host} -> {foreign.status}")
        own = Browser(web).request("GET", LOGIN_PATH)
        p.log(f"GET {LOGIN_PATH} Host: {web.authority} -> {own.status}")
        observed: JsonValue = {"foreign_host_status": foreign.status, "own_host_status": own.status}
        if own.status != 200 or _server_error(foreign.status):
            p.error(f"no judgement: own name HTTP {own.status}, foreign name HTTP {foreign.status}", observed)
        else:
            p.check(400 <= foreign.status < 500, observed,
                    f"a request with Host: {foreign_host} was served (HTTP {foreign.status})")
    return p.result


def _fill_sessions(p: Probe, web: WebTarget, accounts: list[tuple[str, str]], per_user: int, total: int
                   ) -> tuple[list[Browser], list[str]]:
    """Log in round-robin until ``total`` sessions are open (at most ``per_user`` each)."""
    open_sessions: list[Browser] = []
    refusals: list[str] = []
    counts = dict.fromkeys((u for u, _ in accounts), 0)
    for username, password in accounts * total:
        if len(open_sessions) >= total:
            break
        if per_user and counts[username] >= per_user:
            continue
        try:
            outcome = form_login(web, username, password)
        except Exception as exc:
            refusals.append(f"{username}: {type(exc).__name__}: {exc}")
            break
        if not outcome.ok:
            refusals.append(f"{username}: {outcome.detail}")
            break
        counts[username] += 1
        open_sessions.append(outcome.browser)
    p.log(f"opened {len(open_sessions)} session(s)")
    return open_sessions, refusals


def session_limit_per_user(control: str, target: str, web: WebTarget, username: str, password: str,
                           limit: int) -> Result:
    """PASS when ``username`` gets exactly ``limit`` concurrent sessions and the next login is refused."""
    _secrets(password)
    with probe(control, target, expected=f"{limit} sessions for {username}, the next refused") as p:
        if limit <= 0:
            p.not_applicable("no per-user limit is configured (0 = unlimited)")
        else:
            _judge_limit(p, web, [(username, password)], 0, limit)
    return p.result


def session_limit(control: str, target: str, web: WebTarget, accounts: list[tuple[str, str]], limit: int,
                  per_user_limit: int) -> Result:
    """PASS when ``limit`` sessions open across the accounts and the next is refused.

    Reaching a global limit needs enough distinct accounts when a per-user limit is lower: with
    fewer, the limit cannot be observed, and the result says so (MANUAL) instead of guessing.
    """
    _secrets(*(pw for _, pw in accounts))
    with probe(control, target, expected=f"{limit} sessions in all, the next refused") as p:
        capacity = len(accounts) * per_user_limit if per_user_limit else (limit + 1 if accounts else 0)
        if limit <= 0:
            p.not_applicable("no global session limit is configured (0 = unlimited)")
        elif capacity < limit + 1:
            needed = -(-(limit + 1) // max(per_user_limit, 1))
            p.manual(f"not observable with {len(accounts)} known account(s): reaching {limit + 1} sessions needs "
                     f"{needed} accounts at {per_user_limit} session(s) each; attest the setting or verify again "
                     "once more accounts exist")
        else:
            _judge_limit(p, web, accounts, per_user_limit, limit)
    return p.result


def _judge_limit(p: Probe, web: WebTarget, accounts: list[tuple[str, str]], per_user: int, limit: int) -> None:
    """Fill ``limit`` sessions, try one more with each account, then log every session out."""
    sessions, refusals = _fill_sessions(p, web, accounts, per_user, limit)
    try:
        if len(sessions) < limit:
            p.error(f"only {len(sessions)} of {limit} logins succeeded ({'; '.join(refusals)}): other sessions "
                    "may be active, so the limit cannot be told", len(sessions))
            return
        extra: LoginOutcome | None = None
        for username, password in accounts:
            extra = form_login(web, username, password, p)
            if extra.ok:
                sessions.append(extra.browser)
                break
        assert extra is not None
        if extra.unavailable:
            p.error(f"login {limit + 1} was not judged: {extra.detail}", {"sessions_opened": limit})
        else:
            p.check(not extra.ok, {"sessions_opened": limit, "next_login": extra.detail},
                    f"login {limit + 1} was accepted")
    finally:
        for browser in sessions:
            logout(browser, p)
        p.log(f"logged out {len(sessions)} session(s)")


def api_field(control: str, target: str, web: WebTarget, username: str, password: str, path: str, name: str,
              expected: JsonValue) -> Result:
    """PASS when a fresh Management API GET of ``path`` shows ``name`` == ``expected``."""
    _secrets(password)
    with probe(control, target, expected=expected) as p:
        reply = basic_get(web, username, password, path)
        p.log(f"GET {path} -> {reply.status}")
        document = json.loads(reply.body) if reply.status == 200 else {}
        if reply.status != 200:
            p.error(f"the API answered {reply.status}")  # 5xx after retries, 401/404: nothing read
        elif name not in document:
            p.error(f"the API object has no field '{name}'")
        else:
            value = document[name]
            p.check(value == expected, value, f"{name} is {value!r}, expected {expected!r}")
    return p.result


def reachable(web: WebTarget) -> bool:
    """True when the login page answers 200 over a verified connection (used to wait for a reboot).

    A certificate that does not match the trust raises :class:`UntrustedPeer`: that is no reason to wait.
    """
    try:
        return Browser(web).request("GET", LOGIN_PATH).status == 200
    except (OSError, http.client.HTTPException):
        return False


NON_FIPS_CIPHERS = "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305"


def fips_ciphers(control: str, target: str, endpoint: Endpoint) -> Result:
    """PASS when a TLS 1.2 client offering only ChaCha20-Poly1305 suites is refused (FIPS mode on)."""
    with probe(control, target, expected="non-FIPS cipher suites refused") as p:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # no credentials are sent: only the cipher choice is observed
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(NON_FIPS_CIPHERS)
        p.log(f"offer only {NON_FIPS_CIPHERS} (TLS 1.2) to {endpoint.host}:{endpoint.port}")
        hs = tls.handshake(endpoint, context)
        p.log(f"handshake {'completed' if hs.completed else 'failed'}: {hs.protocol} {hs.cipher} {hs.failure or ''}")
        tls.record_refusal(p, hs, "non-FIPS cipher suites", tls.control_handshake(endpoint))
    return p.result
