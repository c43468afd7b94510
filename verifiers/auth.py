"""Administrator authentication, proven by behaviour on fresh HTTPS connections (guide: Configure user
accounts and authentication settings).

* :func:`check_logins` — each administrator logs in (Basic with their LDAP password, or their client
  certificate) and reaches the Management API.
* :func:`check_role_enforcement` — each role does exactly what it should: Read-only reads and gets 403 on
  a write; Auditor reads the administrator log and gets 403 on a write; Read-write writes (a no-op PATCH).
* :func:`check_local_admin_refused` — the local admin's credentials are refused.
* :func:`check_certificate_required` — without a client certificate there is no login page and no API.
* :func:`check_unknown_user_refused` — a CA-signed certificate naming nobody in LDAP is refused.
* :func:`check_issuer_trusted` — a client certificate's issuer is a CA the node trusts.

A 5xx answer or a connection failure is ERROR (nothing was judged); only a clear answer is PASS or FAIL.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from securemode.https.browser import Browser, Reply, UntrustedPeer, WebTarget
from securemode.https.login import basic_auth, form_login, logout, server_error
from securemode.redact import register_secret
from securemode.results import Probe, Result, probe

API_ROOT = "/api/admin/configuration/v1/"
GLOBAL = "/api/admin/configuration/v1/global/1/"
LOGS_PAGE = "/admin/logs/"
HOME_PAGE = "/admin/"
LOGIN_PAGE = "/admin/login/"
NO_OP_FIELD = "enable_chat"  # read, then written back unchanged: a write that changes nothing


@dataclass(frozen=True)
class Login:
    """How one administrator proves who they are: a password (Basic / login form) or a client certificate."""

    username: str
    role: str
    password: str | None = field(default=None, repr=False)
    certificate: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.password:
            register_secret(self.password)

    @property
    def how(self) -> str:
        return "client certificate" if self.certificate else "password"

    def target(self, web: WebTarget) -> WebTarget:
        return replace(web, client_certificate=self.certificate)

    def api(self, web: WebTarget, method: str, path: str, body: object = None) -> Reply:
        headers = {"Accept": "application/json"}
        if self.certificate is None and self.password is not None:
            headers["Authorization"] = basic_auth(self.username, self.password)
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        return Browser(self.target(web)).request(method, path, data, headers)


class _Unjudged(Exception):
    """The node could not be asked (connection, TLS or 5xx): ERROR, never a verdict."""


def _ask(p: Probe, what: str, send: Callable[[], Reply]) -> Reply:
    try:
        reply = send()
    except (OSError, ssl.SSLError, UntrustedPeer) as exc:
        raise _Unjudged(f"{what}: {type(exc).__name__}: {exc}") from None
    p.log(f"{what} -> {reply.status}")
    if server_error(reply.status):
        raise _Unjudged(f"{what}: HTTP {reply.status}")
    return reply


def check_logins(control: str, target: str, web: WebTarget, logins: Sequence[Login]) -> Result:
    """Every administrator reaches the Management API with their own credential."""
    with probe(control, target, expected={lg.username: f"200 by {lg.how}" for lg in logins}) as p:
        if not logins:
            p.error("the site names no administrator to log in with")
            return p.result
        try:
            seen = {
                lg.username: _ask(
                    p, f"GET {API_ROOT} as {lg.username} by {lg.how}", partial(lg.api, web, "GET", API_ROOT)
                ).status
                for lg in logins
            }
        except _Unjudged as exc:
            p.error(str(exc))
        else:
            refused = [f"{user} ({status})" for user, status in seen.items() if status != 200]
            p.check(not refused, seen, f"refused: {', '.join(refused)}" if refused else "every administrator got in")
    return p.result


def _web_page(lg: Login, web: WebTarget, path: str, p: Probe) -> int:
    """The status of ``path`` in a web session of ``lg`` (form login, or the certificate's own session)."""
    if lg.certificate is not None:
        browser = Browser(lg.target(web))
        try:  # the certificate opens a web session on the first page: it is ended, never left behind
            return _ask(p, f"GET {path} as {lg.username} by certificate", lambda: browser.request("GET", path)).status
        finally:
            logout(browser, p)
    outcome = form_login(web, lg.username, lg.password or "", p)
    try:
        if outcome.unavailable:
            raise _Unjudged(f"web login as {lg.username}: {outcome.detail}")
        if not outcome.ok:
            return 401
        return _ask(p, f"GET {path} as {lg.username}", lambda: outcome.browser.request("GET", path)).status
    finally:
        logout(outcome.browser, p)


def _role_findings(lg: Login, web: WebTarget, p: Probe) -> list[str]:
    """What this login may do that its role should not, or may not do that it should."""
    read = _ask(p, f"GET {GLOBAL} as {lg.username}", lambda: lg.api(web, "GET", GLOBAL))
    current = json.loads(read.body).get(NO_OP_FIELD) if read.status == 200 else None
    write = _ask(
        p,
        f"PATCH {GLOBAL} (no-op) as {lg.username}",
        lambda: lg.api(web, "PATCH", GLOBAL, {NO_OP_FIELD: current if current is not None else False}),
    )
    logs = _web_page(lg, web, LOGS_PAGE, p)
    findings: list[str] = []
    wrote = write.status < 300
    match lg.role:
        case "Read-write":
            findings += [] if read.status == 200 else [f"cannot read the configuration ({read.status})"]
            findings += [] if wrote else [f"cannot change the configuration ({write.status})"]
        case "Read-only":
            findings += [] if read.status == 200 else [f"cannot read the configuration ({read.status})"]
            findings += [f"changed the configuration ({write.status})"] if wrote else []
        case "Auditor":
            findings += [] if logs == 200 else [f"cannot view the administrator log ({logs})"]
            findings += [f"changed the configuration ({write.status})"] if wrote else []
    if lg.role != "Auditor" and logs == 200:
        findings.append("views the administrator log, which only the Auditor role may")
    return findings


def check_role_enforcement(control: str, target: str, web: WebTarget, logins: Sequence[Login]) -> Result:
    """Read-only: 403 on a write; Auditor: reads the log, changes nothing; Read-write: changes (a no-op)."""
    roles = sorted({lg.role for lg in logins})
    with probe(control, target, expected="each role can do exactly what it should") as p:
        missing = {"Read-only", "Read-write", "Auditor"} - set(roles)
        if missing:
            p.error(f"no administrator of role(s) {', '.join(sorted(missing))} to prove it with")
            return p.result
        try:
            found = {f"{lg.username} ({lg.role})": _role_findings(lg, web, p) for lg in logins}
        except _Unjudged as exc:
            p.error(str(exc))
        else:
            bad = {who: f for who, f in found.items() if f}
            p.check(not bad, found, "; ".join(f"{who}: {', '.join(f)}" for who, f in bad.items()) or "as expected")
    return p.result


def check_local_admin_refused(control: str, target: str, web: WebTarget, username: str, password: str) -> Result:
    """The local admin's credentials get no API access (LDAP only: no local account is used)."""
    local = Login(username, "local", password)
    with probe(control, target, expected=f"401/403 for {username}") as p:
        try:
            status = _ask(p, f"GET {API_ROOT} as local {username}", lambda: local.api(web, "GET", API_ROOT)).status
        except _Unjudged as exc:
            p.error(str(exc))
        else:
            p.check(status in (401, 403), {"status": status}, f"the local admin got HTTP {status}")
    return p.result


def check_certificate_required(control: str, target: str, web: WebTarget) -> Result:
    """Without a client certificate: no login page, no admin page, no API."""
    bare = replace(web, client_certificate=None)
    with probe(control, target, expected="no login page, admin page or API without a certificate") as p:
        try:
            login = _ask(p, f"GET {LOGIN_PAGE} without a certificate", lambda: Browser(bare).request("GET", LOGIN_PAGE))
            home = _ask(p, f"GET {HOME_PAGE} without a certificate", lambda: Browser(bare).request("GET", HOME_PAGE))
            api = _ask(p, f"GET {API_ROOT} without a certificate", lambda: Browser(bare).request("GET", API_ROOT))
        except _Unjudged as exc:
            p.error(str(exc))
        else:
            shown = {"login": login.status, "home": home.status, "api": api.status}
            login_form = login.status == 200 and 'name="password"' in login.text()
            redirected = (home.header("Location") or "").startswith(LOGIN_PAGE)
            open_ = [k for k, s in shown.items() if s == 200]
            p.check(
                not (login_form or redirected or open_),
                shown,
                "a login page is presented" if login_form or redirected else f"served without one: {open_}",
            )
    return p.result


def check_unknown_user_refused(
    control: str, target: str, web: WebTarget, certificate: tuple[str, str], identity: str
) -> Result:
    """A certificate the node's CA trusts, naming ``identity`` that LDAP does not have, gets nothing."""
    stranger = Login(identity, "none", certificate=certificate)
    with probe(control, target, expected=f"no access for {identity}") as p:
        try:
            api = _ask(p, f"GET {API_ROOT} as {identity}", lambda: stranger.api(web, "GET", API_ROOT)).status
            home = _ask(
                p, f"GET {HOME_PAGE} as {identity}", lambda: Browser(stranger.target(web)).request("GET", HOME_PAGE)
            ).status
        except _Unjudged as exc:
            p.error(str(exc))
        else:
            p.check(
                api != 200 and home != 200,
                {"api": api, "home": home},
                f"a certificate for {identity}, who is not in LDAP, was let in",
            )
    return p.result


def check_issuer_trusted(control: str, target: str, certificate_file: str, trusted_pems: Sequence[str]) -> Result:
    """The client certificate was signed by a CA the node trusts (the proof a certificate login can work,
    made before the node asks for certificates): its issuer is one of ``trusted_pems`` and its signature
    verifies with that CA's key."""
    with probe(control, target, expected="signed by a CA the node trusts") as p:
        try:
            leaf = x509.load_pem_x509_certificate(Path(certificate_file).read_bytes())
        except (OSError, ValueError) as exc:
            p.error(f"cannot read the client certificate: {exc}")
            return p.result
        issuers = [
            ca for pem in trusted_pems if (ca := x509.load_pem_x509_certificate(pem.encode())).subject == leaf.issuer
        ]
        signed = False
        for ca in issuers:
            try:
                leaf.verify_directly_issued_by(ca)
                signed = True
            except (ValueError, TypeError, InvalidSignature):
                continue
        p.check(
            signed,
            {"issuer": leaf.issuer.rfc4514_string(), "trusted": len(trusted_pems)},
            f"{leaf.issuer.rfc4514_string()} is not among the node's {len(trusted_pems)} trusted CA(s)",
        )
    return p.result
