"""securemode.verifiers.ntp against two real chronyd, plus a scripted responder for replies chrony never sends."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.services import chrony
from securemode.results import Result, Status
from securemode.verifiers.ntp import HEADER_LEN, check_authenticated_ntp, compute_mac, parse_key, to_ntp_time


def _check(
    h: chrony.ChronyHandle, key_id: int, key: str, algorithm: str, timeout: float = 1.0, attempts: int = 2
) -> Result:
    host, port = h.endpoints["ntp"]
    return check_authenticated_ntp(
        "platform.ntp.auth",
        "ntp",
        Endpoint(host, port, timeout_s=timeout),
        key_id=key_id,
        key=key,
        algorithm=algorithm,
        attempts=attempts,
    )


def _no_secret(result: Result, *secrets: bytes) -> None:
    text = result.model_dump_json().lower()
    for secret in secrets:
        assert secret.hex() not in text


def test_pass_with_each_key_on_each_server(ntp_servers: list[chrony.ChronyHandle]) -> None:
    for h in ntp_servers:
        for key in h.keys.values():
            r = _check(h, key.key_id, key.hex_secret, key.algorithm)
            assert r.status is Status.PASS, r.message
            assert isinstance(r.observed, dict)
            assert r.observed["stratum"] == 8 and r.observed["authentication"] == "ok"
            assert abs(float(str(r.observed["offset_s"]))) < 1.0
            _no_secret(r, key.secret)


def test_wrong_key_is_fail_with_timeout_transcript(ntp_servers: list[chrony.ChronyHandle]) -> None:
    h = ntp_servers[0]
    r = _check(h, 1, "HEX:" + "00" * 20, "SHA1", timeout=0.3, attempts=1)
    assert r.status is Status.FAIL
    assert "no reply" in r.message
    assert any("no reply to our request within 0.3s" in line for line in r.transcript)


@pytest.mark.parametrize("case", ["unknown key id", "wrong algorithm"])
def test_other_key_mismatches_fail(ntp_servers: list[chrony.ChronyHandle], case: str) -> None:
    h = ntp_servers[1]
    key = h.keys[11]  # SHA1
    if case == "unknown key id":
        r = _check(h, 99, key.hex_secret, "SHA1", timeout=0.3, attempts=1)
    else:
        r = _check(h, 11, key.hex_secret, "SHA256", timeout=0.3, attempts=1)
    assert r.status is Status.FAIL
    _no_secret(r, key.secret)


def test_stopped_server_is_error_with_evidence(tmp_path: Path) -> None:
    """Nothing serves NTP: the key cannot be judged (ERROR, never FAIL)."""
    h = chrony.start(tmp_path / "gone", "127.0.0.10")
    key = h.keys[1]
    h.stop()
    r = _check(h, 1, key.hex_secret, "SHA1", timeout=0.3, attempts=1)
    assert r.status is Status.ERROR
    assert "port unreachable" in r.message
    assert r.observed == {"server": "127.0.0.10", "port": h.endpoints["ntp"][1], "reply": "port unreachable"}


def test_bad_input_is_error_not_fail(ntp_servers: list[chrony.ChronyHandle]) -> None:
    h = ntp_servers[0]
    assert _check(h, 1, "HEX:zz", "SHA1").status is Status.ERROR
    assert _check(h, 1, "secret", "SHA3").status is Status.ERROR


def test_key_notations() -> None:
    assert parse_key("HEX:0aFF") == b"\x0a\xff"
    assert parse_key("ASCII:pw") == b"pw"
    assert parse_key("plain") == b"plain"
    assert len(compute_mac("SHA256", b"k", b"x" * 48)) == 20
    assert len(compute_mac("MD5", b"k", b"x" * 48)) == 16
    assert len(compute_mac("AES128", b"k" * 16, b"x" * 48)) == 16


# --- replies chrony never sends: a scripted UDP responder --------------------------------------------------

KEY = b"scripted-responder-key"
Reply = Callable[[bytes], bytes]


@pytest.fixture
def responder() -> Iterator[Callable[[Reply], tuple[str, int]]]:
    """Start a UDP responder on loopback that answers each request with ``make(request)``."""
    sockets: list[socket.socket] = []

    def start(make: Reply) -> tuple[str, int]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.1)
        sockets.append(sock)

        def serve() -> None:
            while sock.fileno() != -1:
                try:
                    data, peer = sock.recvfrom(1024)
                except (TimeoutError, OSError):
                    continue
                sock.sendto(make(data), peer)

        threading.Thread(target=serve, daemon=True).start()
        host, port = sock.getsockname()
        return str(host), int(port)

    yield start
    for s in sockets:
        s.close()


def _header(request: bytes, *, leap: int = 0, stratum: int = 3, refid: bytes = b"\x7f\x00\x00\x01") -> bytes:
    now = to_ntp_time(time.time())
    origin = request[40:48]
    return (
        struct.pack("!BBbb", (leap << 6) | (4 << 3) | 4, stratum, 6, -20)
        + b"\0" * 8
        + refid
        + struct.pack("!Q", now)
        + origin
        + struct.pack("!QQ", now, now)
    )


def _signed(header: bytes, key_id: int = 7) -> bytes:
    return header + struct.pack("!I", key_id) + compute_mac("SHA1", KEY, header)


CASES: dict[str, tuple[Reply, str]] = {
    "valid": (lambda rq: _signed(_header(rq)), "PASS"),
    "no MAC": (lambda rq: _header(rq), "unauthenticated reply"),
    "crypto-NAK": (lambda rq: _header(rq) + b"\0\0\0\0", "crypto-NAK"),
    "bad MAC": (lambda rq: _header(rq) + struct.pack("!I", 7) + b"\x01" * 20, "MAC does not verify"),
    "other key id": (lambda rq: _signed(_header(rq), key_id=8), "key id 8"),
    "kiss-o-death": (lambda rq: _signed(_header(rq, stratum=0, refid=b"DENY")), "Kiss-o'-Death"),
    "unsynchronised": (lambda rq: _signed(_header(rq, leap=3, stratum=16)), "unsynchronised"),
    "stale origin": (lambda rq: _signed(_header(b"\0" * HEADER_LEN)), "no reply"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_scripted_replies(responder: Callable[[Reply], tuple[str, int]], case: str) -> None:
    make, expect = CASES[case]
    host, port = responder(make)
    r = check_authenticated_ntp(
        "platform.ntp.auth",
        "fake",
        Endpoint(host, port, timeout_s=0.3),
        key_id=7,
        key="ASCII:" + KEY.decode(),
        algorithm="SHA1",
        attempts=1,
    )
    if expect == "PASS":
        assert r.status is Status.PASS, r.message
    else:
        assert r.status is Status.FAIL
        assert expect in r.message
    assert KEY.decode() not in r.model_dump_json()
