"""Verdicts on recorded handshakes: when a refusal is a PASS, when an acceptance is.

A refusal counts only when the server proves, within the same probe, that it is alive and speaks
TLS: its own alert or a ServerHello at another version, or — when it only closed the connection — a
control handshake at an allowed version that completes on the same address right after. A relay in
front of a dead server closes connections too, so anything less is ERROR, never PASS.
"""

from __future__ import annotations

from collections.abc import Callable

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Probe, Status
from securemode.verifiers.tls.contexts import inspecting_context
from securemode.verifiers.tls.handshake import Handshake, handshake
from securemode.verifiers.tls.wire import alert_name

REFUSAL_ALERTS = frozenset({"protocol_version", "handshake_failure", "insufficient_security"})
Control = Callable[[], Handshake]  # a handshake at an allowed version on the same address (refusal judge)


def control_handshake(endpoint: Endpoint) -> Control:
    """The control of a refusal probe: a modern handshake (TLS >= 1.2) on the same address."""
    return lambda: handshake(endpoint, inspecting_context(endpoint.client_cert))


def judge_refusal(hs: Handshake, what: str, control: Control) -> tuple[Status, str, dict[str, JsonValue]]:
    """The verdict on a handshake that offered only ``what`` (a version or a suite family).

    PASS ("refused") needs the server alive and speaking TLS within this probe: its own alert or a
    ServerHello at another version, or — when it only closed the connection — a control handshake at
    an allowed version that completes right after. Anything else is ERROR: a relay in front of a dead
    server closes connections too. ``control`` is called only when needed; an exception is ERROR.
    """
    evidence = hs.evidence()
    if hs.completed:
        return Status.FAIL, f"server accepted {what}: {hs.protocol} {hs.cipher}", evidence
    if not hs.hello_sent:
        return Status.ERROR, f"our ClientHello was never sent, so nothing was tested ({hs.failure})", evidence
    if hs.server_hello_version is not None:
        if what.startswith("TLSv") and hs.server_hello_version != what:
            return Status.PASS, f"{what} refused (ServerHello at {hs.server_hello_version})", evidence
        # a ServerHello to a hello offering only ``what``: the server took it, whatever our side did next
        return Status.FAIL, f"server accepted {what} in its ServerHello (our side then aborted: {hs.failure})", evidence
    if alert_name(hs.alert) in REFUSAL_ALERTS:
        return Status.PASS, f"{what} refused (alert {hs.alert})", evidence
    if hs.failure and hs.failure.startswith("no answer"):
        return Status.ERROR, f"server did not answer the ClientHello: {hs.failure}", evidence
    try:
        check = control()
    except Exception as exc:
        evidence["control_handshake"] = f"{type(exc).__name__}: {exc}"
        return Status.ERROR, f"{hs.failure} without a TLS alert, and the control handshake failed: {exc}", evidence
    evidence["control_handshake"] = check.evidence()
    if check.completed:
        return (
            Status.PASS,
            f"{what} refused: {hs.failure} without an alert, while a control handshake at "
            f"{check.protocol} on the same address completed",
            evidence,
        )
    return (
        Status.ERROR,
        f"{hs.failure} without a TLS alert, and a control handshake at an allowed version "
        f"failed too ({check.failure}): the server is not shown alive",
        evidence,
    )


def record_refusal(p: Probe, hs: Handshake, what: str, control: Control) -> None:
    """Set the probe's verdict from :func:`judge_refusal`."""
    status, message, evidence = judge_refusal(hs, what, control)
    if "control_handshake" in evidence:
        p.log(f"control handshake: {evidence['control_handshake']}")
    if status is Status.PASS:
        p.passed(evidence, message)
    elif status is Status.FAIL:
        p.failed(evidence, message)
    else:
        p.error(message, evidence)


def judge_acceptance(p: Probe, hs: Handshake, version: str) -> None:
    """PASS when ``version`` was negotiated; FAIL only when the server answered (it is alive) and did
    not negotiate it; ERROR when nothing was tried or the server never answered."""
    if not hs.hello_sent:
        p.error(f"our ClientHello was never sent ({hs.failure})", hs.evidence())
    elif hs.completed and hs.protocol == version:
        p.passed(hs.evidence())
    elif hs.completed or hs.server_spoke_tls or hs.server_bytes:
        p.failed(hs.evidence(), f"{version} not accepted: {hs.failure or hs.protocol}")
    else:
        p.error(f"the server sent nothing before the connection ended ({hs.failure}): not shown alive", hs.evidence())
