"""Stage ``bootstrap``: installation wizard, web login, then the security wizard (irreversible, gated).

Verify, on fresh connections only: the configured credentials log in to the web; the install-time
opt-outs read back off through the API; the console needs a password and, after the wizard, refuses
the admin login; host-header validation, session limits, TLS 1.0 and FIPS ciphers, and closed-port
drops as a client sees them; the remaining wizard rows from the node's own security.json when its
diagnostic snapshot has one, else MANUAL with the evidence recorded when the wizard ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from securemode.binding import (
    Binding,
    Call,
    Job,
    Planned,
    Proof,
    SessionRunner,
    Target,
    call,
    checked,
    could_not_check,
    each_at_once,
    from_batch,
    planned,
    run_sessions,
)
from securemode.catalogue import BY_ID, Stage
from securemode.console.access import (
    CONSOLE_PORT,
    HTTPS_PORT,
    WebAdmin,
    admin_password,
    console_pins,
    evidence_path,
    local_web_login_superseded,
    web_admin,
)
from securemode.console.answers import desired_security_answers
from securemode.console.errors import NodeUnreachable
from securemode.console.pins import HostKeyPins
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.https.browser import WebTarget
from securemode.parallel import run_probes
from securemode.pexip.errors import TransientApiError
from securemode.results import Result, probe
from securemode.site import ConferencingNode, ManagementNode
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.bootstrap import (
    GATE_CONSOLE_PIN,
    GATE_SECURITY_WIZARD,
    GATE_WEB_PIN,
    OPT_OUTS,
    check_web_login,
    ensure_console_host_key,
    ensure_install_opt_outs,
    ensure_web_certificate_pinned,
    run_install_wizard,
    run_security_wizard,
)
from securemode.verifiers import console, ports, sip, tls, web
from securemode.verifiers.api import combine
from securemode.verifiers.sip import SipTransport

CLOSED_PROBE_PORT = 23  # telnet: never open on a Pexip node
GLOBAL_PATH = "/api/admin/configuration/v1/global/1/"
WEB, WIRE, CONSOLE, SIP, SECURITY_JSON = "web", "wire", "console", "sip", "security-json"


@dataclass(frozen=True)
class BootstrapProbe:
    """What a bootstrap verifier needs: the site, the console admin password, the wizard answers wanted,
    the console's pinned host keys, and (inside the web session) the web interface with its trust and the
    credential the engine logs in with now (:func:`web_admin`: the password, or after the auth stage's
    cut-over the engine's client certificate)."""

    loaded: LoadedSite
    password: str
    want: dict[str, bool | int]
    pins: HostKeyPins
    admin: WebAdmin | None = None

    @property
    def web(self) -> WebAdmin:
        if self.admin is None:
            raise RuntimeError("a web check ran outside the web session")
        return self.admin

    @property
    def node(self) -> ManagementNode:
        return self.loaded.site.management_node

    @property
    def host(self) -> str:
        return str(self.node.address)

    @property
    def https(self) -> WebTarget:
        return self.web.target

    @property
    def checked_https(self) -> Endpoint:
        """The web interface's address and port, with the name its certificate is checked against."""
        return Endpoint(self.host, HTTPS_PORT, server_name=self.https.server_name)

    def at(self, port: int) -> Endpoint:
        return Endpoint(self.host, port)


def _web_session(ctx: BootstrapProbe, jobs: list[Job[BootstrapProbe]]) -> list[Result]:
    try:
        admin = web_admin(ctx.loaded)
    except Exception as exc:
        return could_not_check(jobs, f"cannot reach the web interface with trust: {exc}")
    with_web = replace(ctx, admin=admin)
    return [job.run(with_web) for job in jobs]


def _security_json_session(ctx: BootstrapProbe, jobs: list[Job[BootstrapProbe]]) -> list[Result]:
    """The rows only the node's own security.json shows, read once (else MANUAL with the recorded evidence)."""
    try:
        admin = web_admin(ctx.loaded)
    except Exception as exc:
        return could_not_check(jobs, f"cannot reach the web interface: {exc}")
    keys = [job.item.binding.control.id.removeprefix(WIZARD) for job in jobs]
    read = console.security_settings({key: ctx.want[key] for key in keys}, ctx.node.name, admin.target,
                                     admin.username, admin.password, evidence_path(ctx.loaded))
    return from_batch(jobs, read, "the node's security settings")


def _sip_session(ctx: BootstrapProbe, jobs: list[Job[BootstrapProbe]]) -> list[Result]:
    """SIP OPTIONS on each conferencing node the Management Node knows; a node of the site not defined there
    yet (an empty host, before the nodes stage) is NOT_APPLICABLE here: the nodes stage proves the same ports
    on it once it is deployed."""
    try:
        admin = web_admin(ctx.loaded)
        known = web.registered_conferencing_nodes(admin.target, admin.username, admin.password)
    except Exception as exc:
        return could_not_check(jobs, f"cannot read which conferencing nodes are defined: {exc}")
    return run_probes([partial(job.run, ctx) if job.item.target.name in known
                       else partial(_not_deployed_yet, *job.item.pair) for job in jobs])


def _not_deployed_yet(control: str, target: str) -> Result:
    with probe(control, target) as p:
        p.not_applicable(f"conferencing node {target} is not defined on the Management Node yet; the nodes stage "
                         "proves the security wizard's SIP ports on it once it is deployed")
    return p.result


def _login(ctx: BootstrapProbe, _t: Target) -> Call:
    """The local admin's own web login; once the auth stage's cut-over has replaced it, NOT_APPLICABLE
    with the reason (a certificate session proves nothing about the configured password)."""
    return call(ctx.https, ctx.node.admin_username, ctx.web.password,
                superseded=local_web_login_superseded(ctx.loaded))


def _opt_out(field: str) -> Callable[[BootstrapProbe, Target], Call]:
    return lambda ctx, _t: call(ctx.https, ctx.web.username, ctx.web.password, GLOBAL_PATH, field, False)


def _sip(transport: SipTransport, row: str) -> Callable[[BootstrapProbe, Target], Call]:
    return lambda ctx, t: call(Endpoint(str(t.subject.address), int(ctx.want[row])), transport)


def _is_conferencing(target: Target) -> bool:
    return isinstance(target.subject, ConferencingNode)


def _not_conferencing(target: Target) -> bool:
    return not _is_conferencing(target)


STEPS = {step.name: step for step in (
    EnsureStep("console-host-key", ensure_console_host_key, gated=GATE_CONSOLE_PIN),
    EnsureStep("installation-wizard", run_install_wizard, transient_errors=(NodeUnreachable,)),
    EnsureStep("web-certificate-pin", ensure_web_certificate_pinned, gated=GATE_WEB_PIN),
    EnsureStep("install-opt-outs", ensure_install_opt_outs, transient_errors=(TransientApiError,)),
    EnsureStep("web-login", check_web_login, transient_errors=(TransientApiError,)),
    EnsureStep("security-wizard", run_security_wizard, gated=GATE_SECURITY_WIZARD),
)}
WIZARD = "bootstrap.wizard."
_WIZARD_STEP = STEPS["security-wizard"]
FROM_SECURITY_JSON: Proof[BootstrapProbe] = Proof(console.security_settings, session=SECURITY_JSON)
SIP_ROWS = {"sip-udp-port": SipTransport.UDP, "sip-tcp-port": SipTransport.TCP, "sip-tls-port": SipTransport.TLS}


def _wizard(row: str, *proofs: Proof[BootstrapProbe]) -> Binding[BootstrapProbe]:
    return Binding(BY_ID[f"{WIZARD}{row}"], _WIZARD_STEP, proofs)


def _web(verifier: Callable[..., Result], arguments: Callable[[BootstrapProbe, Target], Call]) -> Proof[BootstrapProbe]:
    return Proof(verifier, arguments, session=WEB)


def _wire(verifier: Callable[..., Result],
          arguments: Callable[[BootstrapProbe, Target], Call]) -> Proof[BootstrapProbe]:
    """A check of the web interface's TLS and TCP behaviour: it logs nobody in, so it runs alongside."""
    return Proof(verifier, arguments, session=WIRE)


BINDINGS: tuple[Binding[BootstrapProbe], ...] = checked(Stage.BOOTSTRAP, tuple(STEPS.values()), (
    Binding(BY_ID["bootstrap.web-login"], None, (_web(web.login, _login),)),
    *(Binding(BY_ID[cid], STEPS["install-opt-outs"], (_web(web.api_field, _opt_out(field)),))
      for cid, field in OPT_OUTS),
    _wizard("host-headers", _web(web.host_header, lambda ctx, _t: call(ctx.https))),
    _wizard("web-sessions", _web(web.session_limit, lambda ctx, _t: call(
        ctx.https, [(ctx.web.username, ctx.web.password)], int(ctx.want["web-sessions"]),
        int(ctx.want["web-sessions-per-user"])))),
    _wizard("web-sessions-per-user", _web(web.session_limit_per_user, lambda ctx, _t: call(
        ctx.https, ctx.web.username, ctx.web.password, int(ctx.want["web-sessions-per-user"])))),
    _wizard("tls10", _wire(tls.check_protocol_refused, lambda ctx, _t: call(ctx.checked_https, tls.TlsVersion.TLS1_0))),
    _wizard("fips", _wire(web.fips_ciphers, lambda ctx, _t: call(ctx.checked_https))),
    _wizard("drop-closed-ports", _wire(ports.check_closed_port_drops, lambda ctx, _t: call(
        ctx.at(CLOSED_PROBE_PORT), reference=ctx.at(HTTPS_PORT)))),
    Binding(BY_ID["bootstrap.install.admin-password"], STEPS["installation-wizard"], (Proof(
        console.admin_password_required, lambda ctx, _t: call(
            ctx.at(CONSOLE_PORT), ctx.password, ctx.pins, account_disabled=bool(ctx.want["disable-admin"]),
            alive=ctx.at(HTTPS_PORT)),
        session=CONSOLE),)),
    _wizard("disable-admin", Proof(console.admin_login_refused, lambda ctx, _t: call(
        ctx.at(CONSOLE_PORT), ctx.password, ctx.pins, alive=ctx.at(HTTPS_PORT)), session=CONSOLE)),
    # The SIP listen ports have an outside effect on every conferencing node: it answers OPTIONS there;
    # with no conferencing node yet, the management node's own security.json shows them.
    *(_wizard(row, Proof(sip.check_options, _sip(transport, row), session=SIP, applies=_is_conferencing),
              replace(FROM_SECURITY_JSON, applies=_not_conferencing))
      for row, transport in SIP_ROWS.items()),
    *(_wizard(row, FROM_SECURITY_JSON) for row in ("icmpv6-redirects", "icmpv6-multicast-echo", "ipv6-dad",
                                                   "anon-dh")),
))


def plan(loaded: LoadedSite) -> list[Planned[BootstrapProbe]]:
    """Every bootstrap control on every target of its kind."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """The checks that log in to the web (they count against its session limits), then security.json, one
    after the other; alongside them, what opens no web session: the web interface's TLS and closed-port
    behaviour, SIP OPTIONS on every conferencing node (after an API read, which is not a session) and the
    console logins (SSH)."""
    ctx = BootstrapProbe(loaded, admin_password(loaded).get_secret_value(), desired_security_answers(loaded.site),
                         console_pins(loaded))
    runners: dict[str, SessionRunner[BootstrapProbe]] = {
        WEB: partial(_web_session, ctx),
        WIRE: partial(_web_session, ctx),
        CONSOLE: partial(each_at_once, ctx),  # logins, not web sessions
        SIP: partial(_sip_session, ctx),
        SECURITY_JSON: partial(_security_json_session, ctx),
    }
    return run_sessions(plan(loaded), runners, combine, concurrent=False,
                        alongside=frozenset({WIRE, CONSOLE, SIP}))


SPEC = StageSpec(stage=Stage.BOOTSTRAP, steps=tuple(STEPS.values()), verify=verify)
