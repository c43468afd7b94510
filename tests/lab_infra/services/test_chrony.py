"""chronyd: two servers answer NTP, hold their keys, never touch the clock; chrony's MAC rules pinned."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import ntplib
import pytest

from securemode.infra.services import chrony
from securemode.infra.services.process import bound_sockets
from tests.lab_infra.services.fixtures import NTP_ADDRESSES, process_gone


def test_two_servers_answer_plain_ntp(ntp_servers: list[chrony.ChronyHandle]) -> None:
    assert [h.endpoints["ntp"][0] for h in ntp_servers] == list(NTP_ADDRESSES)
    for h in ntp_servers:
        host, port = h.endpoints["ntp"]
        reply = ntplib.NTPClient().request(host, version=4, port=port, timeout=2)
        assert reply.stratum == 8
        assert abs(reply.offset) < 1.0


def test_config_never_disciplines_the_clock(ntp_servers: list[chrony.ChronyHandle]) -> None:
    for h in ntp_servers:
        argv = Path(f"/proc/{h.pid}/cmdline").read_bytes().split(b"\0")
        assert b"-x" in argv and b"-d" in argv
        conf = (h.workdir / "chrony.conf").read_text()
        assert "makestep" not in conf
        assert f"pidfile {h.workdir / 'chronyd.pid'}" in conf
        assert "cmdport 0" in conf and "bindcmdaddress /" in conf
        assert (h.workdir / "chrony.keys").stat().st_mode & 0o077 == 0
    assert set(ntp_servers[0].keys) == {1, 2}
    assert set(ntp_servers[1].keys) == {11, 12}
    assert {k.algorithm for k in ntp_servers[1].keys.values()} == {"SHA1", "SHA256"}


def test_secrets_not_in_repr(ntp_servers: list[chrony.ChronyHandle]) -> None:
    for h in ntp_servers:
        for key in h.keys.values():
            assert key.secret.hex() not in repr(h).lower()


def _request(key: chrony.NtpKey, mac_len: int) -> bytes:
    header = struct.pack("!B47x", (4 << 3) | 3)[:40] + struct.pack("!Q", 0x1234567890ABCDEF)
    digest = hashlib.new(key.algorithm.lower(), key.secret + header).digest()
    return header + struct.pack("!I", key.key_id) + digest[:mac_len]


def _reply_len(host: str, port: int, packet: bytes) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.connect((host, port))
        s.send(packet)
        try:
            return len(s.recv(1024))
        except TimeoutError:
            return 0


def test_chrony_wants_sha256_macs_truncated_to_20_bytes(ntp_servers: list[chrony.ChronyHandle]) -> None:
    """The fact verifiers/ntp.py relies on: NTPv4 MACs longer than 20 bytes are truncated to 20."""
    h = ntp_servers[0]
    sha256 = h.keys[2]
    assert _reply_len(*h.endpoints["ntp"], _request(sha256, 20)) == 48 + 4 + 20
    assert _reply_len(*h.endpoints["ntp"], _request(sha256, 32)) == 0  # full-length MAC: dropped


def test_independent_client_chronyd_q_authenticates(tmp_path: Path, ntp_servers: list[chrony.ChronyHandle]) -> None:
    """chronyd -Q (query once, never set the clock) is a second, independent authenticated client."""
    h = ntp_servers[1]
    host, port = h.endpoints["ntp"]
    key = h.keys[12]
    keyfile = tmp_path / "client.keys"
    keyfile.write_text(key.keyfile_line() + "\n")
    keyfile.chmod(0o600)
    argv = [
        "chronyd",
        "-Q",
        "-u",
        "root",
        "-t",
        "5",
        "-f",
        "/dev/null",
        f"keyfile {keyfile}",
        "cmdport 0",
        f"pidfile {tmp_path / 'q.pid'}",
        f"server {host} port {port} key {key.key_id} iburst maxsamples 1",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System clock wrong by" in out.stdout + out.stderr


def test_bad_keys_are_refused_and_stop_is_by_pid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        chrony.start(tmp_path / "dup", keys=[chrony.NtpKey.generate(1), chrony.NtpKey.generate(1)])
    with pytest.raises(ValueError, match="algorithm"):
        chrony.start(tmp_path / "alg", keys=[chrony.NtpKey(1, "SHA3", b"x" * 20)])
    h = chrony.start(tmp_path / "one", "127.0.0.7")
    assert h.startup_s < 10
    h.stop()
    deadline = time.monotonic() + 2
    while not process_gone(h.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process_gone(h.pid)
    assert h.endpoints["ntp"] not in bound_sockets("udp")
    h.stop()


def _udp6_ports() -> set[int]:
    rows = Path("/proc/net/udp6").read_text().splitlines()[1:] if Path("/proc/net/udp6").exists() else []
    return {int(row.split()[1].rsplit(":", 1)[1], 16) for row in rows}


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def test_binds_only_its_address_and_answers_only_the_lab(ntp_servers: list[chrony.ChronyHandle]) -> None:
    for h in ntp_servers:
        host, port = h.endpoints["ntp"]
        bound = {address for address, p in bound_sockets("udp") if p == port}
        assert bound == {host}, bound  # never 0.0.0.0
        assert port not in _udp6_ports()  # never [::]
        own = _socket_inodes(h.pid)
        udp6 = Path("/proc/net/udp6").read_text().splitlines()[1:]
        assert not [row for row in udp6 if row.split()[9] in own], "chronyd holds an IPv6 socket"
        conf = (h.workdir / "chrony.conf").read_text()
        assert "allow all" not in conf
        assert f"allow {'.'.join(host.split('.')[:3])}.0/24" in conf


def test_default_allow_is_the_servers_own_network() -> None:
    assert chrony.default_allow("127.77.3.12") == ["127.77.3.0/24", "127.0.0.1"]
    assert chrony.default_allow("10.213.1.5") == ["10.213.1.0/24"]
    assert chrony.default_allow("::1") == ["::/64", "::1"]
