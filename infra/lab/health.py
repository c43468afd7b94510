"""Probes of each running lab part (read-only): is the process alive, and does it answer its protocol?"""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.lab.manifest import Manifest, Part
from infra.lab.processes import is_running
from infra.lab.secret_files import SecretFiles

TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Health:
    part: str
    ok: bool
    detail: str


def _tls_der(host: str, port: int, ca_file: str | None = None) -> bytes:
    if ca_file:
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.check_hostname = False  # the chain is checked; the lab connects by address
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # compared against a pinned fingerprint by the caller
    with socket.create_connection((host, port), TIMEOUT_S) as raw, ctx.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True) or b""


def _tcp(host: str, port: int) -> None:
    with socket.create_connection((host, port), TIMEOUT_S):
        pass


def _vcsim(m: Manifest, part: Part) -> str:
    ep = part.endpoints["sdk"]
    if hashlib.sha256(_tls_der(ep.host, ep.port)).hexdigest() != part.facts["tls_sha256"]:
        raise ValueError("certificate does not match the pinned fingerprint")
    return f"TLS {ep.host}:{ep.port}, pinned certificate"


def _twin(m: Manifest, part: Part) -> str:
    from infra.lab.twin_part import API, api_get

    secrets = SecretFiles(m.secrets_dir)
    admin = (str(part.facts["admin_username"]), secrets.read("admin-password"))
    url = str(part.facts.get("site_url") or part.facts["base_url"])  # the address its host-header check accepts
    data = api_get(url, part.facts["fingerprint_sha256"], admin, f"{API}/management_vm/")
    return f"API {url}: {data['meta']['total_count']} management node(s)"


def _ssh(m: Manifest, part: Part) -> str:
    ep = part.endpoints["ssh"]
    with socket.create_connection((ep.host, ep.port), TIMEOUT_S) as sock:
        sock.settimeout(TIMEOUT_S)
        banner = sock.recv(256).decode(errors="replace").strip()
    if not banner.startswith("SSH-2.0"):
        raise ValueError(f"no SSH banner ({banner[:30]!r})")
    return f"SSH {ep.host}:{ep.port} {banner}"


def _node(m: Manifest, part: Part) -> str:
    """SIP/TCP at the node's site address, plus its HTTPS (own or relayed) and relayed SSH when it has them."""
    ep = part.endpoints["sip_tcp"]
    _tcp(ep.host, ep.port)
    answered = [f"SIP/TCP {ep.host}:{ep.port}"]
    if "https" in part.endpoints:
        https = part.endpoints["https"]
        _tls_der(https.host, https.port)
        answered.append(f"HTTPS {https.port}")
    if "ssh" in part.endpoints:
        answered.append(_ssh(m, part).split(" ", 2)[0] + f" {part.endpoints['ssh'].port}")
    return ", ".join(answered)


def _netns(m: Manifest, part: Part) -> str:
    name = str(part.facts["name"])
    if not (Path("/run/netns") / name).exists():
        raise ValueError(f"namespace {name} is gone")
    return f"namespace {name}"


def _slapd(m: Manifest, part: Part) -> str:
    ep = part.endpoints["ldaps"]
    _tls_der(ep.host, ep.port, m.ca["root"])
    return f"LDAPS {ep.host}:{ep.port}, chain verified"


def _chrony(m: Manifest, part: Part) -> str:
    from verifiers.ntp import check_authenticated_ntp

    ep = part.endpoints["ntp"]
    key_id = int(part.facts["site_key_id"])
    result = check_authenticated_ntp("lab.status", part.name, ep.host, ep.port, key_id=key_id,
                                     key=SecretFiles(m.secrets_dir).read(f"ntp-key-{key_id}"),
                                     algorithm=str(part.facts["keys"][str(key_id)]))
    if result.status.value != "PASS":
        raise ValueError(result.message or str(result.status.value))
    return f"NTP {ep.host}:{ep.port}, authenticated with key {key_id}"


def _rsyslog(m: Manifest, part: Part) -> str:
    tcp, tls = part.endpoints["tcp"], part.endpoints["tls"]
    _tcp(tcp.host, tcp.port)
    _tls_der(tls.host, tls.port, m.ca["root"])
    return f"syslog TCP {tcp.port}, TLS {tls.port} (chain verified)"


def _dns(m: Manifest, part: Part) -> str:
    import dns.message
    import dns.query

    ep = part.endpoints["dns"]
    name = m.nodes[0]["fqdn"]
    reply = dns.query.udp(dns.message.make_query(name, "A"), ep.host, port=ep.port, timeout=TIMEOUT_S)
    answers = [r.to_text() for rrset in reply.answer for r in rrset]
    if m.nodes[0]["address"] not in answers:
        raise ValueError(f"{name} -> {answers}")
    return f"DNS {ep.host}:{ep.port} {name} -> {answers[0]}"


PROBES: dict[str, Callable[[Manifest, Part], str]] = {
    "vcsim": _vcsim,
    "twin": _twin,
    "console": _ssh,
    "node": _node,
    "netns": _netns,
    "slapd": _slapd,
    "chronyd": _chrony,
    "rsyslogd": _rsyslog,
    "dnsmasq": _dns,
}


def check_part(m: Manifest, part: Part) -> Health:
    if part.process is not None and not is_running(part.process):
        return Health(part.name, False, f"process {part.process.pid} is not running")
    probe = PROBES.get(part.kind)
    if probe is None:
        return Health(part.name, True, "running")
    try:
        return Health(part.name, True, probe(m, part))
    except Exception as exc:  # any failure to answer is "down", reported with its kind
        return Health(part.name, False, f"{type(exc).__name__}: {str(exc)[:160]}")


def check_all(m: Manifest) -> list[Health]:
    return [check_part(m, part) for part in m.parts.values()]
