"""Bootstrap of the Management Node (guide: "Management Node deployment and bootstrap configuration").

Steps, in order; each reads the facts and returns a plan of what differs, which the engine applies only
when ``ctx.apply`` (and, for a gated step, only once approved):

1. :func:`ensure_console_host_key` — pin the console's SSH host key (approved: trust on first use
   only with a person's say-so; a changed key is refused, never re-pinned silently).
2. :func:`run_install_wizard` — on a node that is not installed: set the console password, answer
   the installation wizard (incident reporting no, statistics no), wait out the reboot.
3. :func:`ensure_web_certificate_pinned` — pin the self-signed HTTPS certificate (approved).
4. :func:`ensure_install_opt_outs` — incident reporting and statistics stay off (API read-back).
5. :func:`check_web_login` — the guide's step 5: the configured credentials log in to the web.
6. :func:`run_security_wizard` — IRREVERSIBLE: only when the answers differ, the web login works,
   and the ``bootstrap.securitywizard`` approval is given; the run is recorded as evidence.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from typing import Any

from securemode.catalogue import CONTROLS
from securemode.console.access import (
    CONSOLE_PORT,
    HTTPS_PORT,
    admin_password,
    check_inputs,
    console_client,
    console_endpoint,
    console_pins,
    evidence_path,
    web_admin,
    web_target,
)
from securemode.console.answers import ROWS, Value, desired_security_answers, install_answers
from securemode.console.client import ConsoleObservation, ConsoleStatus
from securemode.console.errors import ConsoleError, HostKeyMismatch, NodeUnreachable, WizardMismatch
from securemode.console.pins import fetch_host_key
from securemode.console.reboot import port_open, wait_for_port, wait_for_reboot
from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.https.liveness import answers_tls
from securemode.https.login import form_login, logout, reachable
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import management_api
from securemode.pexip.errors import TransientApiError, TrustError
from securemode.pexip.snapshot import json_value, read_security_json
from securemode.pexip.state import write_json
from securemode.pexip.trust import (
    choose_trust,
    forget_pins_command,
    known_pin,
    record_pin,
    served_fingerprint,
    site_ca_bundle,
)
from securemode.redact import redact
from securemode.site_loader import LoadedSite

GATE_CONSOLE_PIN = "bootstrap.pin-console-host-key"
GATE_WEB_PIN = "bootstrap.pin-web-certificate"
GATE_SECURITY_WIZARD = "bootstrap.securitywizard"
REBOOT_DOWN_TIMEOUT_S = 30.0
REBOOT_UP_TIMEOUT_S = 900.0  # a real Management Node takes minutes to come back
FIRST_BOOT_TIMEOUT_S = REBOOT_UP_TIMEOUT_S  # and as long to boot to its console after the first power-on
# A TCP handshake on the management network takes milliseconds; a step that misreads a slow console as
# dropped only plans nothing, and the stage's proof (verifiers.console) still checks it.
DROPPED_PORT_PROBE_S = 0.25
# (control, global field) of the install-time opt-outs, from the catalogue rows' settings.
OPT_OUTS = tuple((c.id, c.setting.removeprefix("global.")) for c in CONTROLS
                 if c.id.startswith("bootstrap.install.") and c.setting and c.setting.startswith("global."))


class BootstrapError(Exception):
    """A bootstrap precondition or outcome that does not hold; the message says which and why."""


def _target(loaded: LoadedSite) -> str:
    return loaded.site.management_node.name


# reads ------------------------------------------------------------------------------------------------
def read_console(loaded: LoadedSite) -> ConsoleObservation | None:
    """Where an admin login lands now; None while no host key is pinned (we do not log in blind)."""
    endpoint = console_endpoint(loaded)
    if console_pins(loaded).get(endpoint.host, endpoint.port) is None:
        return None
    recorded = read_recorded_answers(loaded)
    disabled = recorded is not None and recorded.get("disable-admin") is True
    gone = ConsoleObservation(status=ConsoleStatus.LOGIN_REFUSED,
                              transcript=[f"no console at {endpoint.host}:{endpoint.port}; the recorded "
                                          "security-wizard run disabled the admin account"])
    # After the security wizard disabled the admin account the node may drop SSH altogether (closed ports
    # drop): what we recorded when we ran it is then all there is to know. A TCP handshake tells a dropped
    # port at once, so a compliant node is not given the whole login timeout on every read.
    if disabled and not port_open(endpoint.host, endpoint.port, DROPPED_PORT_PROBE_S):
        return gone
    try:
        return console_client(loaded).observe()
    except NodeUnreachable:
        if disabled:
            return gone
        raise


def read_recorded_answers(loaded: LoadedSite) -> dict[str, Value] | None:
    """The answers of the last recorded security-wizard run, if there is one."""
    path = evidence_path(loaded)
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    answers = record.get("answers")
    return dict(answers) if isinstance(answers, dict) else None


def read_security_settings(loaded: LoadedSite, status: ConsoleStatus | None) -> tuple[dict[str, Value] | None, str]:
    """The node's security-wizard values and where they come from.

    ``console``: the wizard's own prompts, read and left unanswered; ``record``: our evidence of the
    run that disabled console access (nothing else can be read any more); ``None``: unknown.
    """
    if status is ConsoleStatus.INSTALLED:
        return console_client(loaded).read_security_settings().values, "console"
    if status is ConsoleStatus.LOGIN_REFUSED:
        return read_recorded_answers(loaded), "record"
    if status is None:
        snapshot = read_snapshot_settings(loaded)
        if snapshot is not None:
            return snapshot, "snapshot"
    return None, "not installed" if status is not None else "console host key not pinned"


def read_snapshot_settings(loaded: LoadedSite) -> dict[str, Value] | None:
    """The security-wizard values in the node's diagnostic snapshot (``security.json``), read over the
    trusted web interface; None when the web interface cannot be trusted or the snapshot has none."""
    try:
        admin = web_admin(loaded)
        data = read_security_json(admin.target, admin.username, admin.password)
    except (TrustError, OSError, RuntimeError, ValueError):
        return None
    if data is None:
        return None
    values = {row.key: json_value(row.key, data) for row in ROWS}
    return {k: v for k, v in values.items() if isinstance(v, bool | int)}


def _installed(status: ConsoleStatus | None) -> bool:
    return status in (ConsoleStatus.INSTALLED, ConsoleStatus.LOGIN_REFUSED)


# 1. console host key ----------------------------------------------------------------------------------
def _unreachable(what: str) -> None:
    raise NodeUnreachable(what)


def ensure_console_host_key(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    check_inputs(ctx.site)
    endpoint = console_endpoint(ctx.site)
    pins = console_pins(ctx.site)
    pinned = pins.get(endpoint.host, endpoint.port)
    if pinned is None and ctx.apply:  # a node the vms stage just powered on is still booting: give it its time
        wait_for_port(endpoint.host, endpoint.port, want_open=True, timeout_s=FIRST_BOOT_TIMEOUT_S)
    if pinned is not None and not port_open(endpoint.host, endpoint.port, DROPPED_PORT_PROBE_S):
        return plan_of()  # pinned, and no SSH service answers (as after the security wizard): nothing to do
    try:
        presented = fetch_host_key(endpoint.host, endpoint.port)
    except NodeUnreachable:
        if pinned is not None:
            return plan_of()
        if not ctx.apply:
            return plan_of(Planned(action=partial(_unreachable, f"no SSH service at {endpoint}"), changes=(Change(
                control="bootstrap.install.admin-password", target=_target(ctx.site),
                setting="engine.console_host_key", current="unknown: no SSH service answers", desired="pinned",
                current_known=False),)))
        raise
    if pinned is not None:
        if pinned.public_key != presented.public_key:
            raise HostKeyMismatch(f"the console at {endpoint.host}:{endpoint.port} now presents "
                                  f"{presented.fingerprint}, not the pinned {pinned.fingerprint}; refusing. If the "
                                  f"node was rebuilt on purpose (compare the key on its console), run "
                                  f"`{forget_pins_command(str(ctx.site.path))}` and then `securemode run --site "
                                  f"{ctx.site.path} --stage bootstrap --approve {GATE_CONSOLE_PIN}`")
        return plan_of()
    change = Change(control="bootstrap.install.admin-password", target=_target(ctx.site),
                    setting="engine.console_host_key", current=None, desired=presented.fingerprint)
    summary = (f"trust SSH host key {presented.fingerprint} for the console of {_target(ctx.site)} at "
               f"{endpoint.host}:{endpoint.port} (compare it with the key shown on the node's console)")
    return plan_of(Planned(action=partial(pins.pin, endpoint.host, endpoint.port, presented.public_key),
                           changes=(change,)), summary=summary)


# 2. installation wizard -------------------------------------------------------------------------------
def _install_changes(loaded: LoadedSite, status: ConsoleStatus | None) -> list[Change]:
    node, target = loaded.site.management_node, _target(loaded)
    before = "not completed" if status is not None else "unknown (console host key not pinned)"
    changes: list[Change] = []
    if status in (ConsoleStatus.PASSWORD_NOT_SET, None):
        changes.append(Change(control="bootstrap.install.admin-password", target=target,
                              setting="console.admin_password",
                              current="not set" if status is not None else "unknown",
                              desired="set (management_node.admin_password)"))
    changes.append(Change(control="bootstrap.web-login", target=target, setting="installation_wizard",
                          current=before, desired={
                              "address": str(node.address), "netmask": str(node.netmask),
                              "gateway": str(node.gateway), "hostname": node.hostname, "domain": node.domain,
                              "dns_servers": [str(d) for d in loaded.site.dns_servers],
                              "ntp_servers": [n.address for n in loaded.site.ntp_servers],
                              "web_admin_username": node.admin_username}))
    changes += [Change(control=control, target=target, setting=f"global.{name}", current=None, desired=False)
                for control, name in OPT_OUTS]
    if status is None:  # nothing could be read: a run makes these only if the node turns out not installed
        changes = [c.model_copy(update={"current_known": False}) for c in changes]
    return changes


def _wait_for_console(loaded: LoadedSite) -> None:
    endpoint = console_endpoint(loaded)
    if not wait_for_reboot(endpoint.host, endpoint.port, REBOOT_DOWN_TIMEOUT_S, REBOOT_UP_TIMEOUT_S):
        raise NodeUnreachable(f"the console at {endpoint.host}:{endpoint.port} did not come back within "
                              f"{REBOOT_UP_TIMEOUT_S:g} s of the reboot")


def web_service_up(loaded: LoadedSite) -> bool:
    """Whether the node's HTTPS service completes a TLS handshake: a node serves its web interface only
    once the installation wizard is done, so this tells "installed" without logging in anywhere."""
    node = loaded.site.management_node
    return answers_tls(str(node.address), HTTPS_PORT, node.fqdn)[0]


def _install(loaded: LoadedSite) -> None:
    """Answer the installation wizard, wait out the reboot, and check the node came back installed."""
    client = console_client(loaded)
    client.run_install_wizard(install_answers(loaded.site, admin_password(loaded)))
    _wait_for_console(loaded)
    after = client.observe().status
    if after is not ConsoleStatus.INSTALLED:
        raise ConsoleError(f"after the installation wizard and its reboot the console shows '{after.value}'")
    node = loaded.site.management_node  # the web interface may come up after the console: the next steps need it
    if not wait_for_port(str(node.address), HTTPS_PORT, want_open=True, timeout_s=REBOOT_UP_TIMEOUT_S):
        raise NodeUnreachable(f"the web interface at {node.address}:{HTTPS_PORT} did not come up within "
                              f"{REBOOT_UP_TIMEOUT_S:g} s of the installation wizard's reboot")


def plan_install(loaded: LoadedSite, status: ConsoleStatus | None, web_up: bool) -> StepPlan:
    """Nothing on an installed node; else the wizard's settings, blocked while the host key is not pinned."""
    if _installed(status) or (status is None and web_up):
        return plan_of()
    return plan_of(Planned(action=partial(_install, loaded), changes=tuple(_install_changes(loaded, status))),
                   blocked="installation wizard: the console host key is not pinned" if status is None else None)


def run_install_wizard(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    check_inputs(ctx.site)
    observed = read_console(ctx.site)
    status = observed.status if observed is not None else None
    return plan_install(ctx.site, status, status is None and web_service_up(ctx.site))


# 3. HTTPS certificate pin -----------------------------------------------------------------------------
def ensure_web_certificate_pinned(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    node = ctx.site.site.management_node
    host = str(node.address)
    try:
        served = served_fingerprint(host, HTTPS_PORT)
    except OSError as exc:  # not installed yet: the installation step reports that
        return plan_of(blocked=f"{GATE_WEB_PIN}: no HTTPS service at {host}:{HTTPS_PORT} ({exc.strerror or exc}); "
                               "is the node installed?")
    pin = known_pin(ctx.site, host)  # the site file's fingerprint is a person's pin too: plan and run agree
    try:
        choose_trust(host, HTTPS_PORT, node.fqdn, site_ca_bundle(ctx.site), pin)
        return plan_of()
    except TrustError:
        if pin is not None:
            raise
    change = Change(control="bootstrap.web-login", target=node.name, setting="engine.https_certificate_pin",
                    current=None, desired=f"sha256 {served}")
    summary = (f"trust the self-signed HTTPS certificate sha256 {served} of {node.name} at {host}:{HTTPS_PORT} "
               "until the PKI stage installs a CA-signed one")
    source = f"bootstrap: served after installation, approved ({GATE_WEB_PIN})"
    return plan_of(Planned(action=partial(record_pin, ctx.site, host, served, source=source), changes=(change,)),
                   summary=summary)


# 4. incident reporting and statistics off -------------------------------------------------------------
def plan_opt_outs(api: ManagementApi, target: str, current: dict[str, Any]) -> list[Planned]:
    """One PATCH turning off whichever of incident reporting and statistics is not off."""
    fix = {name: False for _, name in OPT_OUTS if current.get(name) is not False}
    if not fix:
        return []
    return [Planned(action=partial(api.patch, config_uri("global", 1), fix), changes=tuple(
        Change(control=control, target=target, setting=f"global.{name}", current=current.get(name), desired=False)
        for control, name in OPT_OUTS if name in fix))]


def ensure_install_opt_outs(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    try:
        api = management_api(ctx.site)
    except (TrustError, OSError) as exc:  # not installed or not trusted yet: the earlier steps say what is missing
        return plan_of(blocked=f"install opt-outs not checked: the web interface is not trusted or not up ({exc})")
    resources.enter_context(api)
    return plan_of(*plan_opt_outs(api, _target(ctx.site), api.get(config_uri("global", 1))))


# 5. web login -----------------------------------------------------------------------------------------
def web_login_result(loaded: LoadedSite) -> tuple[bool | None, str]:
    """(works, why) for a form login with the configured credentials, on a fresh verified connection;
    works is None when nothing could be judged: the web interface cannot be reached with trust, or it
    kept answering 5xx / timing out through the client's retries (never a failed login)."""
    try:
        admin = web_admin(loaded)
    except (TrustError, OSError) as exc:
        return None, f"the web interface cannot be reached with trust: {exc}"
    try:
        outcome = form_login(admin.target, admin.username, admin.password)
    except Exception as exc:  # an untrusted peer, a reset, a timeout: nothing was judged
        return None, redact(f"{type(exc).__name__}: {exc}")
    try:
        if outcome.unavailable:
            return None, redact(f"the web interface is unavailable: {outcome.detail}")
        return outcome.ok, redact(outcome.detail)
    finally:
        logout(outcome.browser)


def _stop(error: Exception) -> None:
    raise error


def plan_web_login(works: bool | None, why: str) -> StepPlan:
    """No change to make; a run stops here when the login failed, or retries when it could not be judged."""
    if works is None:
        return plan_of(Planned(action=partial(_stop, TransientApiError(f"web login not judged: {why}"))))
    if works is False:
        return plan_of(Planned(action=partial(_stop, BootstrapError(
            f"web login with the configured credentials failed: {why}"))))
    return plan_of()


def check_web_login(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """The guide's step 5; a failure stops the stage before the irreversible wizard (apply only). A login
    that could not be judged (5xx, timeouts) is transient: the step is retried."""
    observed = read_console(ctx.site)
    status = observed.status if observed is not None else None
    if status is ConsoleStatus.LOGIN_REFUSED or (not ctx.apply and not _installed(status)):
        return plan_of()  # done long ago (OS access is gone), or nothing to log in to yet
    try:
        web_target(ctx.site)
    except (TrustError, OSError) as exc:
        return plan_of(blocked=f"web login not checked: the web interface cannot be reached with trust: {exc}")
    return plan_web_login(*web_login_result(ctx.site))


# 6. security wizard -----------------------------------------------------------------------------------
def _wizard_changes(loaded: LoadedSite, current: dict[str, Value] | None, source: str,
                    desired: dict[str, Value]) -> list[Change]:
    out = []
    for row in ROWS:
        have = None if current is None else current.get(row.key)
        if current is not None and have == desired[row.key]:
            continue
        out.append(Change(control=row.control, target=_target(loaded), setting=f"security_settings.{row.key}",
                          current=have if current is not None else f"unknown ({source})",
                          desired=desired[row.key], current_known=current is not None))
    return out


def _record(loaded: LoadedSite, before: dict[str, Value], answers: dict[str, Value], unasked: list[str],
            transcript: list[str], approver: str) -> None:
    endpoint = console_endpoint(loaded)
    pinned = console_pins(loaded).get(endpoint.host, endpoint.port)
    write_json(evidence_path(loaded), {
        "recorded_at": datetime.now(UTC).isoformat(), "node": _target(loaded), "endpoint": str(endpoint),
        "host_key": pinned.fingerprint if pinned else None, "before": before, "answers": answers,
        "unasked": unasked, "approved_by": approver, "transcript": transcript})


def _summary(changes: list[Change], login: str) -> str:
    diff = ", ".join(f"{c.setting.removeprefix('security_settings.')}: {c.current!r}→{c.desired!r}" for c in changes)
    return (f"IRREVERSIBLE: run securitywizard on {changes[0].target} ({diff}); afterwards there is no OS-level "
            f"(SSH or console) access to the node, for good. Precondition: {login}")


def wizard_precondition(status: ConsoleStatus | None, source: str, login: tuple[bool | None, str] | None) -> str | None:
    """Why the wizard cannot run now (the console is not at its prompt, or the web login fails), or None."""
    if status is not ConsoleStatus.INSTALLED:
        return (f"{GATE_SECURITY_WIZARD}: cannot run: the console is {status.value if status else source}"
                + ("; console access is gone, so only a rebuild can change these settings"
                   if status is ConsoleStatus.LOGIN_REFUSED else ""))
    if login is not None and not login[0]:
        return f"{GATE_SECURITY_WIZARD}: precondition not met: web login failed ({login[1]})"
    return None


def run_security_wizard(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """The wizard's answers that differ; the run (gated: irreversible) only when its preconditions hold.
    The web login is tried only for a run, and only when there is something to change."""
    desired = desired_security_answers(ctx.site.site)
    observed = read_console(ctx.site)
    status = observed.status if observed is not None else None
    current, source = read_security_settings(ctx.site, status)
    changes = _wizard_changes(ctx.site, current, source, desired)
    if not changes:
        return plan_of()
    login = web_login_result(ctx.site) if ctx.apply and status is ConsoleStatus.INSTALLED else None
    node = ctx.site.site.management_node
    return plan_of(Planned(action=partial(_run_wizard, ctx, desired), changes=tuple(changes)),
                   blocked=wizard_precondition(status, source, login),
                   summary=_summary(changes, f"web login as {node.admin_username} verified"))


def _run_wizard(ctx: EngineContext, desired: dict[str, Value]) -> None:
    """Run the approved wizard, record it as evidence, and wait for the node to come back."""
    node = ctx.site.site.management_node
    run = console_client(ctx.site).run_security_wizard(desired)
    _record(ctx.site, run.before, run.answers, run.unasked, run.transcript, ctx.approvals[-1].who)
    if run.unasked:
        raise WizardMismatch(f"the node's security wizard never asked: {', '.join(run.unasked)}")
    host = str(node.address)
    # With the admin account disabled a node may drop SSH for good once it is back, so the console
    # reopening is waited for only briefly; then HTTPS answering is the sign the reboot is over.
    up_timeout = node.console_reopen_wait_s if desired.get("disable-admin") is True else REBOOT_UP_TIMEOUT_S
    back = wait_for_reboot(host, CONSOLE_PORT, REBOOT_DOWN_TIMEOUT_S, up_timeout)
    if not back:
        back = wait_for_port(host, HTTPS_PORT, want_open=True, timeout_s=REBOOT_UP_TIMEOUT_S)
    if not back and not reachable(web_target(ctx.site)):
        raise NodeUnreachable(f"{node.name} did not come back within {REBOOT_UP_TIMEOUT_S:g} s of the wizard")
