"""Authenticated NTP: one symmetric-key client exchange (RFC 5905) with a server, MAC checked both ways.

ntplib cannot authenticate, so the packet code is here. The request is a 48-byte mode-3 NTPv4
header followed by ``key id (4 bytes) || MAC``; the reply must carry the same key id and a MAC we can
recompute. What the MAC is, as chrony 4.3 and ntpd implement it (checked against chrony in the tests):

* digest algorithms: ``MAC = H(key || packet)``; in NTPv4 a digest longer than 20 bytes is truncated to
  its first 20 bytes (SHA256/384/512 send 20 bytes; SHA1 is 20, MD5 16). chrony drops a request whose
  SHA256 MAC is the full 32 bytes.
* AES128/AES256 (RFC 8573): ``MAC = AES-CMAC(key, packet)``, 16 bytes.

Verdicts: PASS only for a mode-4 reply to our request whose key id and MAC verify and whose server is
synchronised (leap != 3, stratum 1-15). An unauthenticated reply, a crypto-NAK, a wrong key id, a bad
MAC or a Kiss-o'-Death is FAIL; so is silence (a server with the wrong key says nothing: chrony sends
no crypto-NAK) and an ICMP port-unreachable. The transcript shows each attempt; keys never appear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
import struct
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.cmac import CMAC

from securemode.endpoint import Endpoint
from securemode.redact import register_secret
from securemode.results import JsonValue, Probe, Result, probe

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01
HEADER_LEN = 48
DEFAULT_TIMEOUT_S = 1.0  # per attempt: a LAN NTP server answers in milliseconds
NTPV4_MAX_MAC = 20
_DIGESTS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}
_CMACS = {"AES128": 16, "AES256": 32}
ALGORITHMS = tuple(_DIGESTS) + tuple(_CMACS)


def parse_key(key: str) -> bytes:
    """Key text as chrony's keyfile writes it: ``HEX:<hex>``, ``ASCII:<text>`` or plain ASCII text."""
    if key[:4].upper() == "HEX:":
        try:
            return bytes.fromhex(key[4:])
        except ValueError:
            raise ValueError("NTP key after 'HEX:' is not hexadecimal") from None
    if key[:6].upper() == "ASCII:":
        return key[6:].encode()
    return key.encode()


def compute_mac(algorithm: str, key: bytes, data: bytes) -> bytes:
    """The NTPv4 MAC of ``data`` (see the module docstring for truncation and CMAC)."""
    alg = algorithm.upper()
    if alg in _DIGESTS:
        return hashlib.new(_DIGESTS[alg], key + data).digest()[:NTPV4_MAX_MAC]
    if alg in _CMACS:
        if len(key) != _CMACS[alg]:
            raise ValueError(f"{alg} key must be {_CMACS[alg]} bytes, not {len(key)}")
        c = CMAC(AES(key))
        c.update(data)
        return c.finalize()
    raise ValueError(f"NTP MAC algorithm {algorithm!r} not one of {', '.join(ALGORITHMS)}")


def to_ntp_time(unix: float) -> int:
    """Unix time -> 64-bit NTP timestamp (era 0)."""
    return int((unix + NTP_EPOCH_OFFSET) * 2**32) & 0xFFFFFFFFFFFFFFFF


def from_ntp_time(stamp: int) -> float:
    return stamp / 2**32 - NTP_EPOCH_OFFSET


def build_request(transmit: int, key_id: int, algorithm: str, key: bytes) -> bytes:
    """A mode-3 NTPv4 request with ``transmit`` as its transmit timestamp, plus key id and MAC."""
    header = struct.pack("!BBbb4x4x4xQQQQ", (0 << 6) | (4 << 3) | 3, 0, 6, -20, 0, 0, 0, transmit)
    return header + struct.pack("!I", key_id) + compute_mac(algorithm, key, header)


@dataclass(frozen=True)
class NtpReply:
    """The fields of a reply header we report, plus the raw authentication trailer."""

    leap: int
    version: int
    mode: int
    stratum: int
    refid: bytes
    origin: int
    receive: int
    transmit: int
    trailer: bytes

    @classmethod
    def parse(cls, data: bytes) -> NtpReply:
        if len(data) < HEADER_LEN:
            raise ValueError(f"reply is {len(data)} bytes, shorter than an NTP header")
        first, stratum = data[0], data[1]
        refid = data[12:16]
        origin, receive, transmit = struct.unpack("!QQQ", data[24:48])
        return cls(
            first >> 6, (first >> 3) & 7, first & 7, stratum, refid, origin, receive, transmit, data[HEADER_LEN:]
        )

    def refid_text(self) -> str:
        if self.stratum <= 1:
            return self.refid.rstrip(b"\0").decode("ascii", "replace")
        return ".".join(str(b) for b in self.refid)


def classify_authentication(reply: NtpReply, header: bytes, key_id: int, algorithm: str, key: bytes) -> str:
    """'ok', or what is wrong with the reply's authentication trailer."""
    trailer = reply.trailer
    if not trailer:
        return "unauthenticated reply (no MAC)"
    if len(trailer) == 4:
        return f"crypto-NAK (key id {struct.unpack('!I', trailer)[0]}, no MAC)"
    if len(trailer) < 4 + 16:
        return f"malformed authentication trailer ({len(trailer)} bytes)"
    (got_id,) = struct.unpack("!I", trailer[:4])
    if got_id != key_id:
        return f"reply signed with key id {got_id}, expected {key_id}"
    if not hmac.compare_digest(trailer[4:], compute_mac(algorithm, key, header)):
        return f"MAC does not verify with key {key_id} ({algorithm})"
    return "ok"


def check_authenticated_ntp(
    control: str, target: str, server: Endpoint, *, key_id: int, key: str, algorithm: str = "SHA1", attempts: int = 2
) -> Result:
    """Exchange one authenticated NTP packet with ``server``; PASS when the reply's MAC verifies.

    ``key`` is the secret in chrony keyfile notation (``HEX:…`` or ASCII). Offset, delay, stratum,
    leap and refid go into the observed evidence.
    """
    register_secret(key)
    expected = f"authenticated mode-4 reply, key {key_id} ({algorithm.upper()}), synchronised"
    with probe(control, target, expected=expected) as p:
        secret = parse_key(key)
        register_secret(secret.decode("latin-1"))
        register_secret(secret.hex())
        register_secret(secret.hex().upper())
        compute_mac(algorithm, secret, b"")  # reject an unknown algorithm or bad key size before sending
        _exchange(p, server.host, server.port, key_id, algorithm, secret, server.timeout(DEFAULT_TIMEOUT_S), attempts)
    return p.result


def _exchange(
    p: Probe, server: str, port: int, key_id: int, algorithm: str, key: bytes, timeout: float, attempts: int
) -> None:
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((server, port))
        for attempt in range(1, attempts + 1):
            t1 = time.time()
            transmit = to_ntp_time(t1) ^ secrets.randbits(8)  # low bits random: a reply must echo them
            t1 = from_ntp_time(transmit)
            request = build_request(transmit, key_id, algorithm, key)
            p.log(
                f"attempt {attempt}: -> {server}:{port} mode 3 v4, key id {key_id} {algorithm.upper()}, "
                f"{len(request)} bytes"
            )
            try:
                sock.send(request)
                data, t4 = _receive_for(sock, transmit, timeout, p)
            except ConnectionRefusedError:
                p.log(f"attempt {attempt}: ICMP port unreachable from {server}:{port}")
                p.error(
                    f"nothing serves NTP at {server}:{port} (port unreachable): the key cannot be judged",
                    {"server": server, "port": port, "reply": "port unreachable"},
                )
                return
            if data is None:
                p.log(f"attempt {attempt}: no reply to our request within {timeout:.1f}s")
                continue
            _judge(p, data, t1, t4, server, port, key_id, algorithm, key)
            return
        observed: JsonValue = {
            "server": server,
            "port": port,
            "reply": "none",
            "attempts": attempts,
            "timeout_s": timeout,
        }
        if _answers_unauthenticated(p, sock, timeout):
            p.failed(
                observed,
                f"no reply from {server}:{port} to {attempts} authenticated requests while it answers "
                "an unauthenticated one (it drops requests with a wrong key or key id)",
            )
        else:
            p.error(
                f"no reply from {server}:{port} at all, not even to an unauthenticated request: the server is "
                "not shown alive, so the key cannot be judged",
                observed,
            )


def _answers_unauthenticated(p: Probe, sock: socket.socket, timeout: float) -> bool:
    """Whether the server answers a plain mode-3 request (no MAC): the proof it is alive and speaks NTP."""
    transmit = to_ntp_time(time.time()) ^ secrets.randbits(8)
    header = struct.pack("!BBbb4x4x4xQQQQ", (0 << 6) | (4 << 3) | 3, 0, 6, -20, 0, 0, 0, transmit)
    p.log("liveness: unauthenticated mode 3 request")
    deadline = time.monotonic() + timeout
    try:
        sock.send(header)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            data = sock.recv(2048)
            if len(data) >= HEADER_LEN and data[0] & 7 == 4:  # any server-mode NTP packet: it speaks NTP
                p.log("liveness: the server answers in NTP")
                return True
    except OSError as exc:  # a timeout too
        p.log(f"liveness: {exc.strerror or exc or 'no answer'}")
    return False


def _receive_for(sock: socket.socket, transmit: int, timeout: float, p: Probe) -> tuple[bytes | None, float]:
    """Wait up to ``timeout`` for a reply whose origin timestamp is our transmit timestamp."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(2048)
        except TimeoutError:
            break
        t4 = time.time()
        if len(data) >= HEADER_LEN and struct.unpack("!Q", data[24:32])[0] == transmit:
            return data, t4
        p.log(f"<- {len(data)} bytes that do not answer our request (origin mismatch): ignored")
    return None, 0.0


def _judge(
    p: Probe,
    data: bytes,
    t1: float,
    t4: float,
    server: str,
    port: int,
    key_id: int,
    algorithm: str,
    key: bytes,
) -> None:
    reply = NtpReply.parse(data)
    t2, t3 = from_ntp_time(reply.receive), from_ntp_time(reply.transmit)
    observed: dict[str, JsonValue] = {
        "server": server,
        "port": port,
        "reply_bytes": len(data),
        "mode": reply.mode,
        "version": reply.version,
        "leap": reply.leap,
        "stratum": reply.stratum,
        "refid": reply.refid_text(),
        "offset_s": round(((t2 - t1) + (t3 - t4)) / 2, 6),
        "delay_s": round((t4 - t1) - (t3 - t2), 6),
        "key_id": key_id,
        "algorithm": algorithm.upper(),
    }
    auth = classify_authentication(reply, data[:HEADER_LEN], key_id, algorithm, key)
    observed["authentication"] = auth
    p.log(
        f"<- {len(data)} bytes mode {reply.mode} stratum {reply.stratum} leap {reply.leap} "
        f"refid {reply.refid_text()}: {auth}"
    )
    if reply.mode != 4:
        p.failed(observed, f"reply has mode {reply.mode}, not 4 (server)")
    elif auth != "ok":
        p.failed(observed, f"reply from {server}:{port} is not authenticated: {auth}")
    elif reply.stratum == 0:
        p.failed(observed, f"Kiss-o'-Death {reply.refid_text()!r} from {server}:{port}")
    elif reply.leap == 3 or reply.stratum >= 16:
        p.failed(observed, f"{server}:{port} authenticates but is unsynchronised (leap 3 / stratum 16)")
    else:
        p.passed(observed, f"authenticated with key {key_id}, stratum {reply.stratum}")
