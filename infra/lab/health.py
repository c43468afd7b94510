"""Probes of each running lab part (read-only): is the process alive, and does it answer its protocol in
the state the deployment is in now (:mod:`securemode.infra.lab.expected_state`)?

Each probe first says which state it expects (``Probing.expect``): the twin over HTTPS with its pinned
first-boot certificate until the pki stage assigned one from the site's CA, then with that CA; the
console's SSH taking logins until the security wizard disabled the system administrator account, then
closed at the manager's site address. A part in another state is down, with the reason in one line.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from securemode.infra.lab.expected_state import FIRST_BOOT, SITE_CA, DeploymentState
from securemode.infra.lab.manifest import Endpoint, Manifest, Part
from securemode.infra.lab.processes import is_running
from securemode.infra.lab.secret_files import SecretFiles

TIMEOUT_S = 2.0
CLOSED_PORT_TIMEOUT_S = 1.0
DETAIL_CHARS = 200


@dataclass(frozen=True)
class Health:
    part: str
    ok: bool
    expected: str  # the state the part should be in now, derived from the deployment's state
    detail: str


@dataclass
class Probing:
    """One part's probe: the lab, the deployment's state, and the state the probe expects (set first)."""

    manifest: Manifest
    part: Part
    state: DeploymentState
    expected: str = "running"

    def expect(self, what: str) -> None:
        self.expected = what


def _tls_der(host: str, port: int, ca_file: str | None = None, server_name: str | None = None) -> bytes:
    if ca_file:
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.check_hostname = server_name is not None  # the lab's services are reached by address
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # compared against a pinned fingerprint (or judged) by the caller
    with socket.create_connection((host, port), TIMEOUT_S) as raw, ctx.wrap_socket(
            raw, server_hostname=server_name) as tls:
        return tls.getpeercert(binary_form=True) or b""


def tcp_connect(host: str, port: int) -> None:
    with socket.create_connection((host, port), TIMEOUT_S):
        pass


def _node_fqdn(m: Manifest, name: str) -> str:
    return str(m.node(name)["fqdn"])


def https_as_expected(m: Manifest, node: str, ep: Endpoint, certificate: str) -> str:
    """The node's HTTPS presents the certificate the deployment expects: chained to the site's CA for its
    FQDN, or (before pki) a self-signed first-boot one."""
    if certificate == SITE_CA:
        _tls_der(ep.host, ep.port, m.ca["chain"], server_name=_node_fqdn(m, node))
        return f"HTTPS {ep.port} (chain to the site CA for {_node_fqdn(m, node)})"
    leaf = x509.load_der_x509_certificate(_tls_der(ep.host, ep.port))
    if leaf.issuer != leaf.subject:
        raise ValueError(f"HTTPS {ep.port} presents a CA-issued certificate, but none is assigned to {node}")
    return f"HTTPS {ep.port} (self-signed)"


def closed_port(host: str, port: int, drop: bool) -> str:
    """The port is closed the way the security wizard said: dropped (silence) or rejected (RST)."""
    from securemode.verifiers.ports import PortState, probe_tcp

    seen = probe_tcp(host, port, CLOSED_PORT_TIMEOUT_S)
    want = PortState.FILTERED if drop else PortState.REFUSED
    if seen.state is not want:
        raise ValueError(f"tcp/{port} at {host} is {seen.state.value}, expected {want.value}")
    return f"tcp/{port} at {host} {'dropped' if drop else 'rejected'}"


def _vcsim(p: Probing) -> str:
    p.expect("TLS, pinned certificate")
    ep = p.part.endpoints["sdk"]
    if hashlib.sha256(_tls_der(ep.host, ep.port)).hexdigest() != p.part.facts["tls_sha256"]:
        raise ValueError("certificate does not match the pinned fingerprint")
    return f"TLS {ep.host}:{ep.port}"


def _twin(p: Probing) -> str:
    """The Management API at the manager's site address, under the trust the deployment's state calls for."""
    from securemode.infra.lab.twin_part import API, api_get, pinned, refuses_without_certificate
    from securemode.pexip.trust import CaBundle, Trust

    m, part = p.manifest, p.part
    manager = str(m.nodes[0]["name"])
    expected = p.state.get()
    certificate = expected.certificate(manager)
    required = ", client certificate required" if expected.client_certificate_required else ""
    p.expect(f"HTTPS, {'site CA' if certificate == SITE_CA else 'pinned first-boot certificate'}{required}")
    trust: Trust = (CaBundle(Path(m.ca["chain"]), _node_fqdn(m, manager)) if certificate == SITE_CA
                    else pinned(str(part.facts["fingerprint_sha256"])))
    url = str(part.facts.get("site_url") or part.facts["base_url"])  # the address its host-header check accepts
    if expected.client_certificate_required:  # the lab holds no administrator's certificate: the refusal shows it
        status = refuses_without_certificate(url, trust, f"{API}/management_vm/")
        if status != 403:
            raise ValueError(f"a request without a client certificate answered HTTP {status}, not 403")
        return f"API {url}: refuses a request without a client certificate (403)"
    admin = (str(part.facts["admin_username"]), SecretFiles(m.secrets_dir).read("admin-password"))
    data = api_get(url, trust, admin, f"{API}/management_vm/")
    return f"API {url}: {data['meta']['total_count']} management node(s)"


def ssh_banner(ep: Endpoint) -> str:
    with socket.create_connection((ep.host, ep.port), TIMEOUT_S) as sock:
        sock.settimeout(TIMEOUT_S)
        banner = sock.recv(256).decode(errors="replace").strip()
    if not banner.startswith("SSH-2.0"):
        raise ValueError(f"no SSH banner ({banner[:30]!r})")
    return banner


def _console(p: Probing) -> str:
    """Taking logins until the security wizard disabled the system administrator account; then closed at the
    manager's site address (the lab namespace's firewall), while the process keeps running."""
    m, ep = p.manifest, p.part.endpoints["ssh"]
    expected = p.state.get()
    if not expected.console_closed:
        p.expect("SSH, taking logins")
        return f"SSH {ep.host}:{ep.port} {ssh_banner(ep)}"
    if not m.netns:
        p.expect("logins refused after security wizard (no namespace: the port stays open)")
        return f"SSH {ep.host}:{ep.port} {ssh_banner(ep)}"
    p.expect("closed after security wizard")
    site_address = str(m.nodes[0]["address"])
    return f"closed as expected after security wizard: {closed_port(site_address, ep.port, expected.drop_closed_ports)}"


def _node(p: Probing) -> str:
    """SIP/TCP at the node's site address, its HTTPS (own or relayed) with the certificate the deployment
    assigned, and the manager's relayed SSH: open, or closed after the security wizard."""
    m, part = p.manifest, p.part
    name = str(part.facts.get("name") or part.name.removeprefix("node-"))
    expected = p.state.get() if {"https", "ssh"} & part.endpoints.keys() else None
    wants = ["SIP/TCP"]
    if expected is not None and "https" in part.endpoints:
        wants.append(f"HTTPS {'site CA' if expected.certificate(name) == SITE_CA else FIRST_BOOT}")
    if expected is not None and "ssh" in part.endpoints:
        wants.append("SSH closed after security wizard" if expected.console_closed else "SSH open")
    p.expect(", ".join(wants))
    ep = part.endpoints["sip_tcp"]
    tcp_connect(ep.host, ep.port)
    answered = [f"SIP/TCP {ep.host}:{ep.port}"]
    if expected is not None and "https" in part.endpoints:
        answered.append(https_as_expected(m, name, part.endpoints["https"], expected.certificate(name)))
    if expected is not None and "ssh" in part.endpoints:
        ssh = part.endpoints["ssh"]
        if expected.console_closed:
            answered.append(f"SSH {closed_port(ssh.host, ssh.port, expected.drop_closed_ports)}")
        else:
            ssh_banner(ssh)
            answered.append(f"SSH {ssh.port}")
    return ", ".join(answered)


def _netns(p: Probing) -> str:
    p.expect("namespace present")
    name = str(p.part.facts["name"])
    if not (Path("/run/netns") / name).exists():
        raise ValueError(f"namespace {name} is gone")
    return f"namespace {name}"


def _slapd(p: Probing) -> str:
    p.expect("LDAPS, lab CA")
    ep = p.part.endpoints["ldaps"]
    _tls_der(ep.host, ep.port, p.manifest.ca["root"])
    return f"LDAPS {ep.host}:{ep.port}, chain verified"


def _chrony(p: Probing) -> str:
    from securemode.endpoint import Endpoint
    from securemode.verifiers.ntp import check_authenticated_ntp

    m, part = p.manifest, p.part
    p.expect("NTP, authenticated")
    ep = part.endpoints["ntp"]
    key_id = int(part.facts["site_key_id"])
    result = check_authenticated_ntp("lab.status", part.name, Endpoint(ep.host, ep.port), key_id=key_id,
                                     key=SecretFiles(m.secrets_dir).read(f"ntp-key-{key_id}"),
                                     algorithm=str(part.facts["keys"][str(key_id)]))
    if result.status.value != "PASS":
        raise ValueError(result.message or str(result.status.value))
    return f"NTP {ep.host}:{ep.port}, authenticated with key {key_id}"


def _rsyslog(p: Probing) -> str:
    p.expect("syslog TCP and TLS, lab CA")
    tcp, tls = p.part.endpoints["tcp"], p.part.endpoints["tls"]
    tcp_connect(tcp.host, tcp.port)
    _tls_der(tls.host, tls.port, p.manifest.ca["root"])
    return f"syslog TCP {tcp.port}, TLS {tls.port} (chain verified)"


def _dns(p: Probing) -> str:
    import dns.message
    import dns.query

    m = p.manifest
    p.expect("DNS, the nodes' names")
    ep = p.part.endpoints["dns"]
    name = m.nodes[0]["fqdn"]
    reply = dns.query.udp(dns.message.make_query(name, "A"), ep.host, port=ep.port, timeout=TIMEOUT_S)
    answers = [r.to_text() for rrset in reply.answer for r in rrset]
    if m.nodes[0]["address"] not in answers:
        raise ValueError(f"{name} -> {answers}")
    return f"DNS {ep.host}:{ep.port} {name} -> {answers[0]}"


def _ocsp(p: Probing) -> str:
    import urllib.request

    p.expect("OCSP responder of the lab CA")
    ep = p.part.endpoints["ocsp"]
    with urllib.request.urlopen(f"http://{ep.host}:{ep.port}/", timeout=TIMEOUT_S) as reply:
        if reply.status != 200:
            raise ValueError(f"HTTP {reply.status}")
    return f"OCSP http://{ep.host}:{ep.port}/"


PROBES: dict[str, Callable[[Probing], str]] = {
    "vcsim": _vcsim,
    "twin": _twin,
    "console": _console,
    "node": _node,
    "netns": _netns,
    "slapd": _slapd,
    "chronyd": _chrony,
    "rsyslogd": _rsyslog,
    "dnsmasq": _dns,
    "ocsp": _ocsp,
}


def reason(exc: BaseException) -> str:
    """One line: the innermost cause's kind and text (requests wraps urllib3 wraps ssl), shortened at a word."""
    inner = exc
    for _ in range(6):
        nested = getattr(inner, "reason", None)
        if not isinstance(nested, BaseException) and inner.args and isinstance(inner.args[0], BaseException):
            nested = inner.args[0]
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = f"{type(inner).__name__}: {inner}"
    return textwrap.shorten(text, DETAIL_CHARS, placeholder=" …")


def check_part(m: Manifest, part: Part, state: DeploymentState | None = None) -> Health:
    probing = Probing(m, part, state or DeploymentState(m))
    probe = PROBES.get(part.kind)
    if part.process is not None and not is_running(part.process):
        return Health(part.name, False, probing.expected, f"process {part.process.pid} is not running")
    if probe is None:
        return Health(part.name, True, probing.expected, "running")
    try:
        detail = probe(probing)
    except Exception as exc:  # any failure to answer as expected is "down", reported with its cause
        return Health(part.name, False, probing.expected, reason(exc))
    return Health(part.name, True, probing.expected, detail)


def check_all(m: Manifest) -> list[Health]:
    """Every part; on a power-driven lab also every node: probed when its VM is powered on, listed when off."""
    from securemode.infra.lab.power_health import check_powered_nodes, probe_booted

    state = DeploymentState(m)
    out = []
    for part in m.parts.values():
        out.append(check_part(m, part, state))
        if part.kind == "power":
            out += [Health(n.part, n.ok, n.expected, n.detail) for n in check_powered_nodes(m, part, probe_booted)]
    return out
