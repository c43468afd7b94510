"""rsyslogd receiver: real senders over UDP, TCP (SysLogHandler framing) and TLS (RFC 5425), one file each."""

from __future__ import annotations

import logging
import logging.handlers
import socket
import ssl
import time
import uuid
from pathlib import Path

import pytest

from securemode.infra.pki.ca import LabCA
from securemode.infra.services import rsyslog
from securemode.infra.services.process import bound_sockets
from tests.lab_infra.services.fixtures import process_gone


def _wait_for(h: rsyslog.RsyslogHandle, transport: str, text: str, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in h.read(transport):
            return True
        time.sleep(0.02)
    return False


def _message(marker: str) -> bytes:
    return f"<110>1 2026-01-01T00:00:00.000000Z node1 pexip 42 AUDIT - {marker}".encode()


def test_udp_message_lands_in_the_udp_file_only(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    marker = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(_message(marker), syslog_receiver.endpoints["udp"])
    assert _wait_for(syslog_receiver, "udp", marker)
    assert f"<110>1 2026-01-01T00:00:00.000000Z node1 pexip 42 AUDIT - {marker}\n" in syslog_receiver.read("udp")
    assert marker not in syslog_receiver.read("tcp") + syslog_receiver.read("tls")


def test_tcp_with_python_sysloghandler(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    marker = uuid.uuid4().hex
    handler = logging.handlers.SysLogHandler(address=syslog_receiver.endpoints["tcp"], socktype=socket.SOCK_STREAM)
    handler.setFormatter(logging.Formatter("probeapp: %(message)s"))
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, marker, None, None)
    handler.emit(record)
    handler.close()
    assert _wait_for(syslog_receiver, "tcp", marker)
    assert marker not in syslog_receiver.read("udp")


def test_tls_octet_counted_with_verified_certificate(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    marker = uuid.uuid4().hex
    host, port = syslog_receiver.endpoints["tls"]
    ctx = ssl.create_default_context(cafile=str(syslog_receiver.ca_file))
    msg = _message(marker)
    with socket.create_connection((host, port), timeout=3) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        tls.sendall(str(len(msg)).encode() + b" " + msg)
        tls.unwrap()
    assert _wait_for(syslog_receiver, "tls", marker)
    assert marker not in syslog_receiver.read("tcp")


def test_tls_1_1_refused(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    host, port = syslog_receiver.endpoints["tls"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(syslog_receiver.ca_file)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((host, port), timeout=3) as raw, pytest.raises(ssl.SSLError):
        ctx.wrap_socket(raw, server_hostname=host)


def test_isolated_from_system_rsyslog(syslog_receiver: rsyslog.RsyslogHandle) -> None:
    argv = Path(f"/proc/{syslog_receiver.pid}/cmdline").read_bytes().split(b"\0")
    assert b"-n" in argv and b"-f" in argv and b"-i" in argv
    conf = (syslog_receiver.workdir / "rsyslog.conf").read_text()
    assert "imuxsock" not in conf and "imklog" not in conf and "/etc/rsyslog" not in conf
    assert str(syslog_receiver.workdir / "rsyslogd.pid") in [a.decode() for a in argv]


def test_subset_of_transports_and_stop(tmp_path: Path, lab_ca: LabCA) -> None:
    with pytest.raises(ValueError, match="unknown syslog transports"):
        rsyslog.start(tmp_path / "bad", lab_ca, transports=["udp", "relp"])
    h = rsyslog.start(tmp_path / "udp-only", lab_ca, "127.0.0.8", transports=["udp"])
    assert set(h.endpoints) == {"udp"} and set(h.received) == {"udp"}
    assert h.startup_s < 10
    h.stop()
    assert process_gone(h.pid)
    assert h.endpoints["udp"] not in bound_sockets("udp")
    h.stop()
