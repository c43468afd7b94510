"""Probes of a node's console and of the settings its security wizard leaves behind.

* :func:`admin_login_refused` — after the wizard, the admin login over SSH must be refused (the
  guide: no OS-level user access, for good). A refused login, a closed port, or silence from a node
  shown alive on another port all count as refused.
* :func:`admin_password_required` — the console admin account has a password: a login offering no
  credentials is refused (and, while the account is enabled, the configured password works).
* :func:`security_settings` — the wizard's answers as the node reports them in a diagnostic
  snapshot (``security.json``, the file Pexip's log tools read). A node whose snapshot has no such
  file gives no outside view of rows like "Accept ICMPv6 redirects": those results are MANUAL and
  point at the evidence the engine recorded when it ran the wizard — never a PASS by assumption.

Host keys are checked against the pins before any password is offered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from securemode.console.answers import ROW_BY_KEY
from securemode.console.login import LoginOutcome, attempt_login
from securemode.console.pins import HostKeyPins
from securemode.endpoint import Endpoint
from securemode.https.browser import WebTarget
from securemode.https.login import basic_get
from securemode.pexip.snapshot import SECURITY_JSON_KEYS, SnapshotRefused, json_value, read_security_json
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers import tls


def admin_login_refused(control: str, target: str, ssh: Endpoint, password: str, pins: HostKeyPins, *,
                        alive: Endpoint | None) -> Result:
    """PASS when ``admin`` with the configured password cannot log in over SSH.

    ``alive`` is the node's HTTPS endpoint: a closed or silent SSH port counts as refused only while a
    TLS handshake there completes (None: no such proof, so a closed port is ERROR)."""
    register_secret(password)
    host, port = ssh.host, ssh.port
    with probe(control, target, expected="admin login over SSH refused") as p:
        attempt = attempt_login(host, port, "admin", password, pins, ssh.timeout(SSH_TIMEOUT_S))
        p.log(f"ssh admin@{host}:{port} with the configured password: {attempt.outcome.value} ({attempt.detail})")
        observed: JsonValue = {"outcome": attempt.outcome.value, "detail": attempt.detail}
        if attempt.outcome is LoginOutcome.ACCEPTED:
            p.failed(observed, "the admin account still logs in over SSH")
        elif attempt.outcome is LoginOutcome.REFUSED:
            p.passed(observed, "the SSH service refused the admin login")
        elif attempt.outcome in (LoginOutcome.PORT_CLOSED, LoginOutcome.SILENT) and _node_up(p, alive):
            p.passed(observed, f"SSH {attempt.outcome.value} while the node's HTTPS service answers")
        else:
            p.error(f"cannot tell: {attempt.detail}", observed)
    return p.result


SSH_TIMEOUT_S = 5.0


def _node_up(p: Probe, alive: Endpoint | None) -> bool:
    """Whether the node shows it is up in a service's own protocol (a completed TLS handshake on its
    HTTPS port): a bare TCP accept proves nothing, a relay in front of a dead service accepts too."""
    if alive is None:
        return False
    up, why = tls.service_answers_tls(alive)
    p.log(why)
    return up


def admin_password_required(control: str, target: str, ssh: Endpoint, password: str, pins: HostKeyPins, *,
                            account_disabled: bool, alive: Endpoint | None) -> Result:
    """PASS when a login with no credentials is refused and, unless the account is disabled, the
    configured password logs in. ``alive`` as for :func:`admin_login_refused`."""
    register_secret(password)
    with probe(control, target, expected="no login without a password; the configured one works") as p:
        _judge_password_required(p, ssh, password, pins, account_disabled, alive)
    return p.result


def _judge_password_required(p: Probe, ssh: Endpoint, password: str, pins: HostKeyPins, account_disabled: bool,
                             alive: Endpoint | None) -> None:
    host, port, timeout_s = ssh.host, ssh.port, ssh.timeout(SSH_TIMEOUT_S)
    bare = attempt_login(host, port, "admin", None, pins, timeout_s)
    p.log(f"ssh admin@{host}:{port} offering no credentials: {bare.outcome.value} ({bare.detail})")
    observed: dict[str, JsonValue] = {"no_credentials": bare.outcome.value}
    if bare.outcome is LoginOutcome.ACCEPTED:
        p.failed(observed, "the console lets admin in without a password")
    elif (bare.outcome in (LoginOutcome.SILENT, LoginOutcome.PORT_CLOSED) and account_disabled
          and _node_up(p, alive)):
        p.passed(observed, f"no login at all: SSH {bare.outcome.value} while the node's HTTPS service answers "
                 "(account disabled)")
    elif bare.outcome is not LoginOutcome.REFUSED:
        p.error(f"cannot tell: {bare.detail}", observed)
    elif account_disabled:
        p.passed(observed, "no password-less login; the account itself is disabled by the security wizard")
    else:
        good = attempt_login(host, port, "admin", password, pins, timeout_s)
        p.log(f"ssh admin@{host}:{port} with the configured password: {good.outcome.value}")
        observed["configured_password"] = good.outcome.value
        p.check(good.outcome is LoginOutcome.ACCEPTED, observed,
                f"the configured console password does not log in ({good.detail})")


API_ROOT = "/api/admin/configuration/v1/"


def _recorded(evidence: Path | None) -> tuple[str, dict[str, Any]]:
    if evidence is None or not evidence.exists():
        return "no record of the wizard run exists", {}
    record = json.loads(evidence.read_text(encoding="utf-8"))
    when = record.get("recorded_at", "?")
    return f"the engine recorded its answers at {when} in {evidence}", dict(record.get("answers") or {})


def security_settings(expected: Mapping[str, JsonValue], target: str, web: WebTarget, username: str,
                      password: str | None, evidence: Path | None = None) -> list[Result]:
    """One result per row key in ``expected`` (control ``bootstrap.wizard.<key>``)."""
    data: dict[str, Any] | None = None
    failure = unreadable = ""
    try:
        data = read_security_json(web, username, password)
    except SnapshotRefused as exc:
        if web.client_certificate is None or basic_get(web, username, password, API_ROOT).status != 200:
            failure = f"{type(exc).__name__}: {exc}"
        else:  # the certificate gets in; the guide takes "May generate system snapshot" from its role
            unreadable = (f"the engine's certificate administrator may not generate a diagnostic snapshot ({exc}): "
                          "the guide removes that permission from its role")
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
    where, recorded = _recorded(evidence)
    out: list[Result] = []
    for key, want in expected.items():
        with probe(f"bootstrap.wizard.{key}", target, expected=want) as p:
            note = f"; recorded answer: {recorded[key]!r}" if key in recorded else ""
            if failure:
                p.error(f"could not read the node's security settings: {failure}")
            elif unreadable:
                p.log(unreadable)
                p.manual(f"not observable from outside the node ({unreadable}); {where}{note}. "
                         "Attest from that record.")
            elif data is None:
                p.log("the diagnostic snapshot holds no security.json")
                p.manual(f"not observable from outside the node (no security.json in its snapshot); {where}"
                         f"{note}. Attest from that record.")
            else:
                value = json_value(key, data)
                p.log(f"security.json {SECURITY_JSON_KEYS[key]} = {data.get(SECURITY_JSON_KEYS[key])!r}")
                p.check(value == want, value, f"{ROW_BY_KEY[key].label}: {value!r}, expected {want!r}")
        out.append(p.result)
    return out
