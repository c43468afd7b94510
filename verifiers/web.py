"""Probes of a node's administrator web interface, made the way a browser or an intruder would.

* :func:`login` — the guide's step 5: log in with the configured credentials (the login form with
  its CSRF token, or HTTP Basic on the Management API) and reach an authenticated page.

A target that presents a client certificate (after the auth stage's cut-over) logs in by it: there
is no login form then, and no password is sent.
* :func:`host_header` — with host-header validation on, a request naming a foreign Host is refused
  while one naming the node is served.
* :func:`session_limit_per_user` / :func:`session_limit` — open sessions up to the limit, see the
  next one refused, then log every one of them out again.
* :func:`fips_ciphers` — under FIPS 140-2 mode the HTTPS service offers no non-approved cipher:
  a client offering only ChaCha20-Poly1305 (not FIPS-approved) cannot connect.
* :func:`api_field` — a fresh, read-only Management API GET of one field.

Every request goes through :mod:`securemode.https` on its own verified TLS connection (a CA file, or
the pinned SHA-256 fingerprint of the node's certificate before the PKI stage): a mismatch is ERROR and
no request — and so no password — is ever sent to an unverified peer.
"""

from __future__ import annotations

import json
import ssl
import time
from functools import partial

from securemode.endpoint import Endpoint
from securemode.https.browser import Browser, WebTarget
from securemode.https.login import LOGIN_PATH, LoginOutcome, basic_get, form_login, logout, server_error
from securemode.parallel import run_bounded
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers import tls

FOREIGN_HOST = "attacker.invalid"
API_ROOT = "/api/admin/configuration/v1/"


def _secrets(*values: str | None) -> None:
    for value in values:
        if value is not None:
            register_secret(value)


# probes -----------------------------------------------------------------------------------------------
def login(control: str, target: str, web: WebTarget, username: str, password: str | None, mode: str = "form",
          superseded: str | None = None) -> Result:
    """PASS when the configured credentials log in (``form``: the admin web page; ``basic``: the API).

    ``superseded`` names why the login this proves no longer exists (NOT_APPLICABLE, nothing is sent).
    """
    _secrets(password)
    with probe(control, target, expected=f"{mode} login as {username} succeeds") as p:
        if superseded is not None:
            p.not_applicable(superseded)
        elif mode == "basic":
            path = "/api/admin/configuration/v1/global/1/"
            reply = basic_get(web, username, password, path)
            p.log(f"GET {path} with Basic ({username}) -> {reply.status}")
            if server_error(reply.status):
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
    # With a client certificate the login page would open a session: the API (no session) is asked instead.
    path = LOGIN_PATH if web.client_certificate is None else API_ROOT
    with probe(control, target, expected=f"Host: {foreign_host} refused; Host: {web.authority} served") as p:
        browser = Browser(web)
        foreign = browser.request("GET", path, host=foreign_host)
        p.log(f"GET {path} Host: {foreign_host} -> {foreign.status}")
        own = Browser(web).request("GET", path, headers={"Accept": "application/json"})
        p.log(f"GET {path} Host: {web.authority} -> {own.status}")
        observed: JsonValue = {"foreign_host_status": foreign.status, "own_host_status": own.status}
        if own.status != 200 or server_error(foreign.status):
            p.error(f"no judgement: own name HTTP {own.status}, foreign name HTTP {foreign.status}", observed)
        else:
            p.check(400 <= foreign.status < 500, observed,
                    f"a request with Host: {foreign_host} was served (HTTP {foreign.status})")
    return p.result


LOGINS_AT_ONCE = 8  # a limit of 10 filled one login after the other took ~1 s of TLS handshakes


def _fill_sessions(p: Probe, web: WebTarget, accounts: list[tuple[str, str | None]], per_user: int, total: int
                   ) -> tuple[list[Browser], list[str]]:
    """Open ``total`` sessions, the accounts taken round-robin (at most ``per_user`` each), the logins at
    once: each is its own connection, and the limit is judged only after all of them have ended."""
    logins = _round_robin(accounts, per_user, total)
    outcomes = run_bounded([partial(_try_login, web, username, password) for username, password in logins],
                           LOGINS_AT_ONCE, "login")
    open_sessions = [o.browser for o in outcomes if isinstance(o, LoginOutcome) and o.ok]
    refusals = [f"{username}: {o if isinstance(o, str) else o.detail}"
                for (username, _pw), o in zip(logins, outcomes, strict=True)
                if isinstance(o, str) or not o.ok]
    p.log(f"opened {len(open_sessions)} session(s)")
    return open_sessions, refusals


def _round_robin(accounts: list[tuple[str, str | None]], per_user: int, total: int) -> list[tuple[str, str | None]]:
    """The logins that open ``total`` sessions, one account after the other, none past ``per_user``."""
    logins: list[tuple[str, str | None]] = []
    counts = dict.fromkeys((u for u, _ in accounts), 0)
    for username, password in accounts * total:
        if len(logins) >= total:
            break
        if per_user and counts[username] >= per_user:
            continue
        counts[username] += 1
        logins.append((username, password))
    return logins


def _try_login(web: WebTarget, username: str, password: str | None) -> LoginOutcome | str:
    """A login's outcome, or why it could not be made."""
    try:
        return form_login(web, username, password)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def session_limit_per_user(control: str, target: str, web: WebTarget, username: str, password: str | None,
                           limit: int) -> Result:
    """PASS when ``username`` gets exactly ``limit`` concurrent sessions and the next login is refused."""
    _secrets(password)
    with probe(control, target, expected=f"{limit} sessions for {username}, the next refused") as p:
        if limit <= 0:
            p.not_applicable("no per-user limit is configured (0 = unlimited)")
        else:
            _judge_limit(p, web, [(username, password)], 0, limit)
    return p.result


def session_limit(control: str, target: str, web: WebTarget, accounts: list[tuple[str, str | None]], limit: int,
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


FILL_ATTEMPTS = 3  # other probes log in as the same account for a moment (a reverify runs every stage at once)
FILL_RETRY_S = 0.5


def _judge_limit(p: Probe, web: WebTarget, accounts: list[tuple[str, str | None]], per_user: int, limit: int) -> None:
    """Fill ``limit`` sessions, try one more with each account, then log every session out. When fewer than
    ``limit`` logins succeed (another session of the account was open for a moment), everything is logged
    out and the fill tried again, up to ``FILL_ATTEMPTS`` times; after that the limit cannot be told."""
    for attempt in range(1, FILL_ATTEMPTS + 1):
        sessions, refusals = _fill_sessions(p, web, accounts, per_user, limit)
        try:
            if len(sessions) < limit:
                if attempt < FILL_ATTEMPTS:
                    p.log(f"attempt {attempt}: only {len(sessions)} of {limit} logins succeeded; trying again")
                    continue
                p.error(f"only {len(sessions)} of {limit} logins succeeded in {FILL_ATTEMPTS} attempts "
                        f"({'; '.join(refusals)}): other sessions may be active, so the limit cannot be told",
                        len(sessions))
                return
            _judge_next_login(p, web, accounts, limit, sessions)
            return
        finally:
            run_bounded([partial(logout, browser, p) for browser in sessions], LOGINS_AT_ONCE, "logout")
            p.log(f"logged out {len(sessions)} session(s)")
            if len(sessions) < limit and attempt < FILL_ATTEMPTS:
                time.sleep(FILL_RETRY_S)


def _judge_next_login(p: Probe, web: WebTarget, accounts: list[tuple[str, str | None]], limit: int,
                      sessions: list[Browser]) -> None:
    """With ``limit`` sessions open: the next login, with any account, must be refused."""
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
        p.check(not extra.ok, {"sessions_opened": limit, "next_login": extra.detail}, f"login {limit + 1} was accepted")


def api_field(control: str, target: str, web: WebTarget, username: str, password: str | None, path: str, name: str,
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


WORKER_VM_PATH = "/api/admin/configuration/v1/worker_vm/?limit=0"


class ApiReadError(RuntimeError):
    """The Management API did not give the list asked for; the message says what it answered."""


def registered_conferencing_nodes(web: WebTarget, username: str, password: str | None) -> set[str]:
    """The names of the conferencing nodes defined on the Management Node (one fresh API read)."""
    _secrets(password)
    reply = basic_get(web, username, password, WORKER_VM_PATH)
    if reply.status != 200:
        raise ApiReadError(f"GET {WORKER_VM_PATH} answered {reply.status}")
    try:
        objects = json.loads(reply.body)["objects"]
        return {str(o["name"]) for o in objects}
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiReadError(f"GET {WORKER_VM_PATH} gave no list of nodes ({type(exc).__name__})") from None


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
