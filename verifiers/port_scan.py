"""Only the allowed ports open on a node address, and every other port dropped (not rejected).

The node's allowed ports come from the security wizard's answers (:func:`allowed_node_ports`): HTTPS,
the SIP UDP/TCP/TLS ports, and SNMP's UDP port only while SNMP is on. Next to them the scan probes a
fixed list of ports that are commonly left open on a Linux appliance, so that "nothing else listens" is
tested where a stray service would most likely be, without a full 65 535-port sweep (minutes per
node, and a real scanner's job):

* TCP: 21 ftp, 22 ssh (open on a node only while its console takes logins), 23 telnet, 25 smtp,
  53 dns, 80 http (a node redirects nothing: HTTPS only), 111 rpcbind, 135/139/445 msrpc/netbios/smb,
  389/636 ldap/ldaps, 3306 mysql, 5432 postgresql, 8080/8443 alternative web ports.
* UDP: 53 dns, 69 tftp, 123 ntp, 137 netbios, 161 snmp (while SNMP is off), 500 ike, 1900 ssdp, each
  with a datagram its service answers (a query, not junk), so a listening service shows itself.

Verdict. An allowed port must answer: TCP completes the handshake (and HTTPS a TLS handshake, the
sign its service is there and not only a backlog), UDP draws a reply in its protocol (SIP OPTIONS,
SNMPv3 discovery). Every other port must be FILTERED: silence for the full timeout, as the wizard's
"drop incoming packets to closed ports rather than reject" requires. A REFUSED port (RST, ICMP
port-unreachable) or an UNREACHABLE one (ICMP admin-prohibited) was rejected, not dropped: FAIL. An
unexpected OPEN port: FAIL, named. An allowed port that does not answer while the host answers
elsewhere: FAIL (the node does not serve it). When nothing answered at all the silence cannot be
told from a host that is down: ERROR, never PASS.

The probes run at once on a bounded thread pool with short timeouts, so a node's scan takes about
one timeout (each dropped port waits it out) plus the TLS handshake; the evidence lists each probe
with its timing and the scan's duration.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Probe, Result, probe
from securemode.site import SecurityWizard
from securemode.verifiers import tls
from securemode.verifiers.port_sweep import PortSpec, sweep
from securemode.verifiers.ports import PortProbe, PortState
from securemode.verifiers.sip import SipTransport, options_request
from securemode.verifiers.udp_payloads import snmpv3_discovery, udp_payload

DEFAULT_TIMEOUT_S = 1.0
COMMON_TCP_PORTS = (21, 22, 23, 25, 53, 80, 111, 135, 139, 389, 445, 636, 3306, 5432, 8080, 8443)
COMMON_UDP_PORTS = (53, 69, 123, 137, 161, 500, 1900)


@dataclass(frozen=True)
class AllowedPorts:
    """The ports a node may have open; ``sip_udp`` and ``snmp`` say which UDP ports are probed with SIP OPTIONS
    and with an SNMPv3 discovery."""

    tcp: frozenset[int]
    udp: frozenset[int]
    sip_udp: int | None = None
    snmp: int | None = None


def allowed_node_ports(wizard: SecurityWizard, https_port: int = 443, snmp_port: int | None = None) -> AllowedPorts:
    """A node's allowed ports from the security wizard's answers: HTTPS, SIP UDP/TCP/TLS, and SNMP's UDP
    port only when SNMP is on (``snmp_port`` given)."""
    udp = {wizard.sip_udp_port} | ({snmp_port} if snmp_port is not None else set())
    tcp = {https_port, wizard.sip_tcp_port, wizard.sip_tls_port}
    return AllowedPorts(frozenset(tcp), frozenset(udp), wizard.sip_udp_port, snmp_port)


def check_only_allowed_ports(
    control: str,
    target: str,
    node: Endpoint,
    allowed: AllowedPorts,
    extra_tcp: Sequence[int] = COMMON_TCP_PORTS,
    extra_udp: Sequence[int] = COMMON_UDP_PORTS,
) -> Result:
    """PASS when every allowed port answers and every other probed port of ``node.host`` is dropped.

    ``node`` is the node's HTTPS endpoint (its port must be among ``allowed.tcp``; a TLS handshake there
    is the proof the host is up); its ``timeout_s`` bounds each probe (default 1 s)."""
    others_tcp = sorted(set(extra_tcp) - allowed.tcp)
    others_udp = sorted(set(extra_udp) - allowed.udp)
    expected: dict[str, JsonValue] = {
        "open": [f"tcp/{p}" for p in sorted(allowed.tcp)] + [f"udp/{p}" for p in sorted(allowed.udp)],
        "dropped": [f"tcp/{p}" for p in others_tcp] + [f"udp/{p}" for p in others_udp],
    }
    with probe(control, target, expected=expected) as p:
        if node.port not in allowed.tcp:
            p.error(f"the HTTPS port {node.port} is not among the allowed TCP ports {sorted(allowed.tcp)}")
        else:
            scan = _scan(node, allowed, others_tcp, others_udp)
            _judge(p, scan, allowed, node.port)
    return p.result


@dataclass(frozen=True)
class _Scan:
    probes: list[PortProbe]
    https_tls: tuple[bool, str]
    duration_s: float


def _scan(node: Endpoint, allowed: AllowedPorts, others_tcp: Sequence[int], others_udp: Sequence[int]) -> _Scan:
    """Every port at once (one selector), the TLS handshake on the HTTPS port beside them."""
    host, timeout = node.host, node.timeout(DEFAULT_TIMEOUT_S)
    specs = [PortSpec("tcp", port) for port in sorted(allowed.tcp)]
    specs += [PortSpec("udp", port, _payload(host, port, allowed)) for port in sorted(allowed.udp)]
    specs += [PortSpec("tcp", port) for port in others_tcp]
    specs += [PortSpec("udp", port, udp_payload(port)) for port in others_udp]
    handshake_timeout = max(timeout, tls.DEFAULT_TIMEOUT_S)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="port-scan-tls") as pool:
        https = pool.submit(tls.service_answers_tls, replace(node, timeout_s=handshake_timeout))
        probes = sweep(host, specs, timeout)
        https_tls = https.result()
    return _Scan(probes, https_tls, time.perf_counter() - t0)


def _payload(host: str, port: int, allowed: AllowedPorts) -> bytes:
    """What an allowed UDP port's service answers: SIP OPTIONS, an SNMPv3 discovery, else a probe datagram."""
    if port == allowed.sip_udp:
        return sip_options_datagram(host, port)
    if port == allowed.snmp:
        return snmpv3_discovery()
    return udp_payload(port)


def _judge(p: Probe, scan: _Scan, allowed: AllowedPorts, https_port: int) -> None:
    tls_ok, tls_why = scan.https_tls
    p.log(f"scan of {len(scan.probes)} port(s) took {scan.duration_s * 1000:.0f} ms")
    for result in scan.probes:
        p.log(result.line())
    p.log(f"https: {tls_why}")
    observed: dict[str, JsonValue] = {
        "duration_ms": round(scan.duration_s * 1000, 1),
        "https_tls": tls_why,
        "probes": [r.evidence() for r in scan.probes],
    }
    problems = [_problem(r, allowed) for r in scan.probes]
    https = next(r for r in scan.probes if r.protocol == "tcp" and r.port == https_port)
    if https.state is PortState.OPEN and not tls_ok:
        problems.append(f"tcp/{https_port} accepts but its HTTPS service does not complete a TLS handshake")
    found = [x for x in problems if x]
    answered = tls_ok or any(r.state in (PortState.OPEN, PortState.REFUSED) for r in scan.probes)
    if not answered:
        p.error("nothing answered on any port: the host is not shown alive, so silence proves no drop policy", observed)
    else:
        p.check(not found, observed, "; ".join(found))


def _problem(result: PortProbe, allowed: AllowedPorts) -> str | None:
    port = f"{result.protocol}/{result.port}"
    is_allowed = result.port in (allowed.tcp if result.protocol == "tcp" else allowed.udp)
    if is_allowed:
        return None if result.state is PortState.OPEN else f"{port} (allowed) is {result.state.value}: not served"
    if result.state is PortState.OPEN:
        return f"{port} is open but not allowed"
    if result.state in (PortState.REFUSED, PortState.UNREACHABLE):
        return f"{port} rejected ({result.detail}) instead of dropped"
    return None


def sip_options_datagram(host: str, port: int) -> bytes:
    """A SIP OPTIONS request; its Via carries ``rport`` (RFC 3581), so the answer goes to our source port."""
    request, _ = options_request(host, port, SipTransport.UDP, (_local_address(host), port))
    return request


def _local_address(host: str) -> str:
    """The source address this machine uses towards ``host`` (a UDP connect sends nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((host, 9))
        return str(sock.getsockname()[0])
