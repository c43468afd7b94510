"""SIP OPTIONS probe (RFC 3261 §11): does the node's signalling port answer 200 over TCP, TLS or UDP?

The probe builds its own request with a fresh branch, tag and Call-ID and checks that the response
echoes Call-ID and CSeq, so a stale or foreign answer is not mistaken for ours. Chain and name
checks of SIP TLS belong to :mod:`securemode.verifiers.tls`; here TLS verifies against the endpoint's ``ca_file`` when
one is given, else any certificate is accepted (and the transcript says so).
"""

from __future__ import annotations

import secrets
import socket
import ssl
import time
from enum import StrEnum

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Probe, Result, probe

DEFAULT_TIMEOUT_S = 3.0
MAX_RESPONSE = 64 * 1024


class SipTransport(StrEnum):
    TCP = "tcp"
    TLS = "tls"
    UDP = "udp"


def options_request(host: str, port: int, transport: SipTransport, local: tuple[str, int]) -> tuple[bytes, str]:
    """An OPTIONS request and its Call-ID."""
    call_id = f"{secrets.token_hex(8)}@securemode-probe"
    via_host = f"[{local[0]}]" if ":" in local[0] else local[0]
    target = f"[{host}]" if ":" in host else host
    lines = [
        f"OPTIONS sip:{target}:{port};transport={transport.value} SIP/2.0",
        f"Via: SIP/2.0/{transport.value.upper()} {via_host}:{local[1]};branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:probe@securemode.invalid>;tag={secrets.token_hex(4)}",
        f"To: <sip:{target}:{port}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "User-Agent: securemode-verifier",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), call_id


def parse_response(raw: bytes) -> tuple[int, str, dict[str, str]]:
    """Status code, reason and headers (lower-case names, first value) of a SIP response."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit():
        raise ValueError(f"not a SIP response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = {"i": "call-id", "v": "via", "f": "from", "t": "to", "l": "content-length"}.get(
            name.strip().lower(), name.strip().lower()
        )
        headers.setdefault(key, value.strip())
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def check_options(control: str, target: str, endpoint: Endpoint, transport: SipTransport) -> Result:
    """PASS when OPTIONS over ``transport`` gets ``200`` with our Call-ID and CSeq echoed."""
    with probe(control, target, expected=f"SIP OPTIONS over {transport.value} answers 200") as p:
        _exchange(p, endpoint, transport)
    return p.result


def _exchange(p: Probe, endpoint: Endpoint, transport: SipTransport) -> None:
    host, port, timeout = endpoint.host, endpoint.port, endpoint.timeout(DEFAULT_TIMEOUT_S)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    t0 = time.perf_counter()
    if transport is SipTransport.UDP:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.settimeout(timeout)
        sock.connect((host, port))
    else:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            p.error(f"no TCP connection to {host}:{port}: {exc.strerror or exc}")
            return
    with sock:
        if transport is SipTransport.TLS:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            if endpoint.ca_file:
                ctx.load_verify_locations(cafile=endpoint.ca_file)
            else:
                ctx.verify_mode = ssl.CERT_NONE
                p.log("TLS: certificate not verified here (see the TLS chain check)")
            try:
                sock = ctx.wrap_socket(sock, server_hostname=endpoint.server_name)
            except (ssl.SSLError, OSError) as exc:
                p.error(f"TLS handshake failed: {exc}")
                return
            negotiated = sock.cipher()
            p.log(f"TLS {sock.version()} {negotiated[0] if negotiated else ''}")
        request, call_id = options_request(host, port, transport, sock.getsockname()[:2])
        p.log(request.decode().split("\r\n", 1)[0])
        try:
            sock.sendall(request)
            raw = _read_response(sock, transport)
        except TimeoutError:
            p.error(f"no SIP answer within {timeout}s")
            return
        except OSError as exc:
            p.error(f"SIP exchange failed: {exc.strerror or exc}")
            return
    elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
    if not raw:
        p.error(
            "connection closed without a SIP answer: the SIP service is not shown alive", {"elapsed_ms": elapsed_ms}
        )
        return
    _judge(p, raw, call_id, elapsed_ms)


def _read_response(sock: socket.socket, transport: SipTransport) -> bytes:
    if transport is SipTransport.UDP:
        return sock.recv(MAX_RESPONSE)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_RESPONSE:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _judge(p: Probe, raw: bytes, call_id: str, elapsed_ms: float) -> None:
    p.log(raw.decode("utf-8", "replace").split("\r\n", 1)[0])
    try:
        code, reason, headers = parse_response(raw)
    except ValueError as exc:
        p.failed({"elapsed_ms": elapsed_ms, "raw": raw[:200].decode("utf-8", "replace")}, str(exc))
        return
    observed: dict[str, JsonValue] = {
        "status": code,
        "reason": reason,
        "call_id_echoed": headers.get("call-id") == call_id,
        "cseq": headers.get("cseq"),
        "server": headers.get("server"),
        "elapsed_ms": elapsed_ms,
    }
    if headers.get("call-id") != call_id or headers.get("cseq") != "1 OPTIONS":
        p.failed(observed, "answer does not echo our Call-ID/CSeq")
    else:
        p.check(code == 200, observed, f"OPTIONS answered {code} {reason}")
