"""LDAP: the service account binds over verified TLS, the mapped groups exist with members, and the
server refuses simple binds without TLS.

TLS fails closed: the server certificate must chain to ``ca_file`` and match the host (or
``server_name``); a certificate that does not verify is FAIL, never a silent downgrade. Modes are
``"ldaps"`` (TLS from the first byte) and ``"starttls"`` (RFC 4513 upgrade on the plain port).

The plaintext probe never sends the real password: it binds as the service DN with a random wrong
password over plain LDAP. A server that enforces TLS answers confidentialityRequired (13) or
strongerAuthRequired (8) before looking at credentials; one that answers invalidCredentials (49) has
evaluated a cleartext password, which is the finding (a correct password would have been accepted or,
at best, could be guessed over cleartext).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import safe_dn

from securemode.endpoint import Endpoint
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers import tls as tls_probe

DEFAULT_TIMEOUT_S = 5.0
TlsMode = Literal["ldaps", "starttls"]
_REFUSED_WITHOUT_TLS = {8: "strongerAuthRequired", 13: "confidentialityRequired", 53: "unwillingToPerform"}


class _BindFailed(Exception):
    """The TLS bind did not succeed; ``stage`` says where (connect, tls, bind)."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


def check_ldap_service_bind(
    control: str, target: str, endpoint: Endpoint, *, mode: TlsMode, bind_dn: str, bind_password: str
) -> Result:
    """Bind as the service account over TLS verified against ``endpoint.ca_file``; PASS when the bind succeeds."""
    register_secret(bind_password)
    with probe(control, target, expected=f"{mode} bind as {bind_dn} with a verified certificate") as p:
        try:
            conn, tls_facts = _tls_bind(p, endpoint, mode, bind_dn, bind_password)
        except _BindFailed as exc:
            observed: JsonValue = {"stage": exc.stage, "error": exc.detail}
            message = f"{mode} bind as {bind_dn} failed at {exc.stage}: {exc.detail}"
            if _server_shown_alive(p, exc.stage, endpoint):
                p.failed(observed, message)
            else:
                p.error(f"{message}; the LDAP server is not shown alive, so nothing was judged", observed)
        else:
            try:
                whoami = conn.extend.standard.who_am_i()
            finally:
                _close(conn)
            p.log(f"whoami: {whoami}")
            p.passed({**tls_facts, "whoami": str(whoami)}, f"bound over {tls_facts['tls_version']}")
    return p.result


def check_ldap_groups(
    control: str,
    target: str,
    endpoint: Endpoint,
    *,
    mode: TlsMode,
    bind_dn: str,
    bind_password: str,
    group_dns: Sequence[str],
    check_member_of: bool = True,
) -> Result:
    """Each group DN exists and has members (and, optionally, each member's memberOf names the group).

    A failing bind is ERROR here (the groups could not be checked); the bind itself is judged by
    :func:`check_ldap_service_bind`.
    """
    register_secret(bind_password)
    with probe(control, target, expected={dn: "exists with members" for dn in group_dns}) as p:
        try:
            conn, _ = _tls_bind(p, endpoint, mode, bind_dn, bind_password)
        except _BindFailed as exc:
            p.error(f"could not check groups: bind failed at {exc.stage}: {exc.detail}")
        else:
            try:
                _judge_groups(p, conn, group_dns, check_member_of)
            finally:
                _close(conn)
    return p.result


def _server_shown_alive(p: Probe, stage: str, endpoint: Endpoint) -> bool:
    """Whether a failure at ``stage`` is the server's own answer: past the TCP connect for StartTLS (it
    spoke LDAP), or, for LDAPS, when a TLS handshake that verifies nothing completes on the same port."""
    if stage == "connect":
        return False
    if stage != "connect+tls":
        return True
    alive, why = tls_probe.service_answers_tls(replace(endpoint, timeout_s=endpoint.timeout(DEFAULT_TIMEOUT_S)))
    p.log(f"liveness: {why}")
    return alive


def check_ldap_plain_bind_refused(
    control: str, target: str, endpoint: Endpoint, *, bind_dn: str, ldaps: Endpoint | None = None
) -> Result:
    """Try a simple bind without TLS (with a throwaway wrong password) on the plain ``endpoint``; PASS when
    the server refuses it for lack of TLS, or nothing listens in plaintext while its ``ldaps`` endpoint
    answers TLS; FAIL when it evaluates the credentials; ERROR when the server is not shown alive at all."""
    decoy = secrets.token_urlsafe(12)
    host, port, timeout = endpoint.host, endpoint.port, endpoint.timeout(DEFAULT_TIMEOUT_S)
    with probe(control, target, expected="simple bind without TLS refused (result 13/8) or no plain port") as p:
        server = ldap3.Server(host, port=port, use_ssl=False, get_info=ldap3.NONE, connect_timeout=timeout)
        conn = ldap3.Connection(
            server, user=bind_dn, password=decoy, receive_timeout=_whole_seconds(timeout), raise_exceptions=False
        )
        try:
            conn.open()
        except LDAPException as exc:
            p.log(f"connect ldap://{host}:{port}: {_text(exc)}")
            alive, why = (
                tls_probe.service_answers_tls(replace(ldaps, timeout_s=ldaps.timeout(timeout)))
                if ldaps is not None
                else (False, "no LDAPS port given to show the server alive")
            )
            p.log(f"liveness: {why}")
            if "refused" in str(exc).lower() and alive:
                p.passed({"plain_port": "closed", "error": _text(exc), "tls_port": why}, "no plaintext LDAP listener")
            else:
                p.error(f"could not reach ldap://{host}:{port}: {_text(exc)}")
        else:
            try:
                conn.bind()
                code, desc = int(conn.result["result"]), str(conn.result["description"])
            finally:
                _close(conn)
            _judge_plain_bind(p, bind_dn, code, desc)
    return p.result


def _judge_plain_bind(p: Probe, bind_dn: str, code: int, desc: str) -> None:
    p.log(f"simple bind as {bind_dn} over cleartext with a wrong password: result {code} {desc}")
    observed: JsonValue = {"result": code, "description": desc}
    if code in _REFUSED_WITHOUT_TLS:
        p.passed(observed, f"refused without TLS: {desc}")
    elif code == 49:
        p.failed(
            observed,
            "server evaluates simple-bind passwords sent without TLS (invalidCredentials "
            "to a wrong password instead of confidentialityRequired)",
        )
    elif code == 0:
        p.failed(observed, "server accepted a simple bind without TLS and with a wrong password")
    else:
        p.error(f"unexpected answer to a cleartext bind: {code} {desc}", observed)


def _tls_bind(
    p: Probe, endpoint: Endpoint, mode: TlsMode, bind_dn: str, bind_password: str
) -> tuple[ldap3.Connection, dict[str, JsonValue]]:
    """An open, bound connection over verified TLS, or _BindFailed saying where it broke."""
    if mode not in ("ldaps", "starttls"):
        raise ValueError(f"mode must be 'ldaps' or 'starttls', not {mode!r}")
    ca_file, server_name = endpoint.ca_file, endpoint.server_name
    if ca_file is None:
        raise ValueError("no CA file given: cannot verify the server (fail closed)")
    if not Path(ca_file).is_file():
        raise ValueError(f"CA file {ca_file} does not exist: cannot verify the server (fail closed)")
    host, port, timeout = endpoint.host, endpoint.port, endpoint.timeout(DEFAULT_TIMEOUT_S)
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=str(ca_file),
        valid_names=[server_name] if server_name else None,
        sni=server_name,
    )
    server = ldap3.Server(
        host, port=port, use_ssl=mode == "ldaps", tls=tls, get_info=ldap3.NONE, connect_timeout=timeout
    )
    conn = ldap3.Connection(
        server,
        user=bind_dn,
        password=bind_password,
        read_only=True,
        receive_timeout=_whole_seconds(timeout),
        raise_exceptions=False,
    )
    url = f"{'ldaps' if mode == 'ldaps' else 'ldap'}://{host}:{port}"
    stage = "connect" if mode == "starttls" else "connect+tls"
    try:
        conn.open()
        p.log(f"connected to {url}")
        if mode == "starttls":
            stage = "tls"
            if not conn.start_tls():
                raise _BindFailed("tls", f"StartTLS refused: {conn.result.get('description')}")
        stage = "bind"
        ok = conn.bind()
    except LDAPException as exc:
        _close(conn)
        p.log(f"{url}: {stage} failed: {_text(exc)}")
        raise _BindFailed(stage, _text(exc)) from None
    except _BindFailed:
        _close(conn)
        raise
    facts = _tls_facts(conn)
    p.log(f"TLS {facts.get('tls_version')} {facts.get('cipher')}, server cert {facts.get('peer_subject')}")
    if not ok:
        desc = f"{conn.result.get('result')} {conn.result.get('description')}"
        _close(conn)
        p.log(f"bind as {bind_dn}: {desc}")
        raise _BindFailed("bind", desc)
    p.log(f"bind as {bind_dn}: success")
    return conn, facts


def _close(conn: ldap3.Connection) -> None:
    """Unbind, ignoring a socket that the failure already closed."""
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()


def _text(exc: BaseException) -> str:
    """ldap3 nests messages as tuple reprs; keep just the innermost text."""
    text = re.sub(r"""^(\(["'])+""", "", str(exc))
    return re.sub(r"""(["'],\))+$""", "", text).strip()


def _whole_seconds(timeout: float) -> int:
    """ldap3 packs the receive timeout as a C long: it must be a whole number of seconds."""
    return max(1, round(timeout))


def _tls_facts(conn: ldap3.Connection) -> dict[str, JsonValue]:
    sock: Any = conn.socket
    if not isinstance(sock, ssl.SSLSocket):
        return {"tls_version": None}
    cert: Any = sock.getpeercert() or {}
    subject = ", ".join("=".join(pair) for rdn in cert.get("subject", ()) for pair in rdn)
    cipher = sock.cipher()
    return {
        "tls_version": sock.version(),
        "cipher": cipher[0] if cipher else None,
        "peer_subject": subject,
        "peer_not_after": cert.get("notAfter"),
    }


def _judge_groups(p: Probe, conn: ldap3.Connection, group_dns: Sequence[str], check_member_of: bool) -> None:
    observed: dict[str, JsonValue] = {}
    problems: list[str] = []
    for group_dn in group_dns:
        found = conn.search(
            group_dn,
            "(objectClass=*)",
            search_scope=ldap3.BASE,
            attributes=["objectClass", "member", "uniqueMember", "memberUid"],
        )
        if not found or not conn.entries:
            p.log(f"{group_dn}: {conn.result.get('description')}")
            observed[group_dn] = {"exists": False}
            problems.append(f"{group_dn} does not exist")
            continue
        attrs = conn.entries[0].entry_attributes_as_dict
        members = [str(m) for key in ("member", "uniqueMember", "memberUid") for m in attrs.get(key, [])]
        facts: dict[str, JsonValue] = {"exists": True, "members": len(members)}
        p.log(f"{group_dn}: {len(members)} member(s)")
        if not members:
            problems.append(f"{group_dn} has no members")
        if check_member_of and attrs.get("member"):
            missing = _members_without_member_of(p, conn, group_dn, [str(m) for m in attrs["member"]])
            facts["members_without_memberOf"] = missing
            if missing:
                problems.append(f"{group_dn}: memberOf missing on {', '.join(missing)}")
        observed[group_dn] = facts
    p.check(not problems, observed, "; ".join(problems))


def _members_without_member_of(p: Probe, conn: ldap3.Connection, group_dn: str, members: list[str]) -> list[str]:
    """Members whose memberOf does not name ``group_dn`` (Pexip reads groups from memberOf by default)."""
    want = safe_dn(group_dn).lower()
    missing: list[str] = []
    for member in members:
        conn.search(member, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["memberOf"])
        values = conn.entries[0].entry_attributes_as_dict.get("memberOf", []) if conn.entries else []
        if want not in {safe_dn(str(v)).lower() for v in values}:
            missing.append(member)
    p.log(f"{group_dn}: memberOf checked on {len(members)} member(s), missing on {len(missing)}")
    return missing
