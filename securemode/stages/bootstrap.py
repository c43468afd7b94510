"""Stage ``bootstrap``: installation wizard, web login, then the security wizard (irreversible, gated).

Verify, on fresh connections only: the configured credentials log in to the web; the install-time
opt-outs read back off through the API; the console needs a password and, after the wizard, refuses
the admin login; host-header validation, session limits, TLS 1.0 and FIPS ciphers, and closed-port
drops as a client sees them; the remaining wizard rows from the node's own security.json when its
diagnostic snapshot has one, else MANUAL with the evidence recorded when the wizard ran.
"""

from __future__ import annotations

from functools import partial

from securemode.catalogue import Stage
from securemode.console.access import (
    CONSOLE_PORT,
    HTTPS_PORT,
    admin_password,
    console_pins,
    evidence_path,
    web_target,
)
from securemode.console.answers import desired_security_answers
from securemode.console.errors import NodeUnreachable
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.parallel import run_probes
from securemode.pexip.errors import TransientApiError
from securemode.results import Result, probe
from securemode.site_loader import LoadedSite
from tasks.bootstrap import (
    GATE_SECURITY_WIZARD,
    check_web_login,
    ensure_console_host_key,
    ensure_install_opt_outs,
    ensure_web_certificate_pinned,
    run_install_wizard,
    run_security_wizard,
)
from verifiers import console, ports, sip, tls, web
from verifiers.sip import SipTransport

CLOSED_PROBE_PORT = 23  # telnet: never open on a Pexip node
GLOBAL_PATH = "/api/admin/configuration/v1/global/1/"
WEB_ROWS = ("host-headers", "web-sessions", "web-sessions-per-user", "tls10", "fips", "drop-closed-ports")
CONSOLE_ROWS = ("disable-admin",)


def _could_not_check(control: str, target: str, why: str) -> Result:
    with probe(control, target) as p:
        p.error(why)
    return p.result


def _web_results(loaded: LoadedSite, want: dict[str, bool | int]) -> list[Result]:
    node = loaded.site.management_node
    target, host, user = node.name, str(node.address), node.admin_username
    password = admin_password(loaded).get_secret_value()
    controls = ["bootstrap.web-login", "bootstrap.install.incident-reporting", "bootstrap.install.statistics",
                *(f"bootstrap.wizard.{k}" for k in WEB_ROWS)]
    try:
        target_web = web_target(loaded)
    except Exception as exc:
        return [_could_not_check(c, target, f"cannot reach the web interface with trust: {exc}") for c in controls]
    https = Endpoint(host, HTTPS_PORT, server_name=target_web.server_name)
    return [
        web.login("bootstrap.web-login", target, target_web, user, password),
        web.api_field("bootstrap.install.incident-reporting", target, target_web, user, password, GLOBAL_PATH,
                      "error_reporting_enabled", False),
        web.api_field("bootstrap.install.statistics", target, target_web, user, password, GLOBAL_PATH,
                      "enable_analytics", False),
        web.host_header("bootstrap.wizard.host-headers", target, target_web),
        web.session_limit("bootstrap.wizard.web-sessions", target, target_web, [(user, password)],
                          int(want["web-sessions"]), int(want["web-sessions-per-user"])),
        web.session_limit_per_user("bootstrap.wizard.web-sessions-per-user", target, target_web, user, password,
                                   int(want["web-sessions-per-user"])),
        tls.check_protocol_refused("bootstrap.wizard.tls10", target, https, tls.TlsVersion.TLS1_0),
        web.fips_ciphers("bootstrap.wizard.fips", target, https),
        ports.check_closed_port_drops("bootstrap.wizard.drop-closed-ports", target, Endpoint(host, CLOSED_PROBE_PORT),
                                      reference=Endpoint(host, HTTPS_PORT)),
    ]


# The SIP listen ports have an outside effect on every conferencing node: it answers OPTIONS there.
SIP_ROWS = {"sip-udp-port": SipTransport.UDP, "sip-tcp-port": SipTransport.TCP, "sip-tls-port": SipTransport.TLS}


def verify(loaded: LoadedSite) -> list[Result]:
    node = loaded.site.management_node
    target, host = node.name, str(node.address)
    password = admin_password(loaded).get_secret_value()
    want = desired_security_answers(loaded.site)
    pins = console_pins(loaded)
    results = _web_results(loaded, want)
    results += [
        console.admin_password_required("bootstrap.install.admin-password", target, Endpoint(host, CONSOLE_PORT),
                                        password, pins, account_disabled=bool(want["disable-admin"]),
                                        alive=Endpoint(host, HTTPS_PORT)),
        console.admin_login_refused("bootstrap.wizard.disable-admin", target, Endpoint(host, CONSOLE_PORT), password,
                                    pins, alive=Endpoint(host, HTTPS_PORT)),
    ]
    conferencing = loaded.site.conferencing_nodes
    observed_sip = SIP_ROWS if conferencing else {}
    results += run_probes(
        partial(sip.check_options, f"bootstrap.wizard.{row}", n.name, Endpoint(str(n.address), int(want[row])),
                transport)
        for row, transport in observed_sip.items() for n in conferencing)
    rest = {k: v for k, v in want.items() if k not in (*WEB_ROWS, *CONSOLE_ROWS, *observed_sip)}
    try:
        target_web = web_target(loaded)
    except Exception as exc:
        results += [_could_not_check(f"bootstrap.wizard.{k}", target, f"cannot reach the web interface: {exc}")
                    for k in rest]
    else:
        results += console.security_settings(rest, target, target_web, node.admin_username, password,
                                             evidence_path(loaded))
    return results


SPEC = StageSpec(
    stage=Stage.BOOTSTRAP,
    steps=(
        EnsureStep("console-host-key", ensure_console_host_key, gated="bootstrap.pin-console-host-key"),
        EnsureStep("installation-wizard", run_install_wizard, transient_errors=(NodeUnreachable,)),
        EnsureStep("web-certificate-pin", ensure_web_certificate_pinned, gated="bootstrap.pin-web-certificate"),
        EnsureStep("install-opt-outs", ensure_install_opt_outs, transient_errors=(TransientApiError,)),
        EnsureStep("web-login", check_web_login, transient_errors=(TransientApiError,)),
        EnsureStep("security-wizard", run_security_wizard, gated=GATE_SECURITY_WIZARD),
    ),
    verify=verify,
)
