"""The SIP listener answers OPTIONS on UDP/TCP/TLS and its TLS follows the wizard switches."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest

from securemode.infra.nodes import SipListener, SipListenerSettings
from securemode.infra.pki.ca import IssuedCertificate
from tests.lab_infra.nodes.conftest import posture_from

OPTIONS = (
    b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP client.invalid:5099;branch=z9hG4bKabc\r\n"
    b"Via: SIP/2.0/TCP proxy.invalid;branch=z9hG4bKdef\r\n"
    b"f: <sip:probe@client.invalid>;tag=111\r\n"
    b"To: <sip:127.0.0.1>\r\n"
    b"i: call-42@client.invalid\r\n"
    b"CSeq: 7 OPTIONS\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@pytest.fixture
def listener(node_cert: IssuedCertificate) -> Iterator[SipListener]:
    settings = SipListenerSettings(sip_udp_port=0, sip_tcp_port=0, sip_tls_port=0, tls=posture_from(node_cert))
    sip = SipListener("conf01.lab.test", "127.0.0.1", settings)
    sip.start()
    yield sip
    sip.stop()


def read_response(sock: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode()


def headers_of(response: str) -> list[str]:
    return response.split("\r\n\r\n")[0].split("\r\n")


def assert_echoed(response: str) -> None:
    lines = headers_of(response)
    assert lines[0] == "SIP/2.0 200 OK"
    vias = [h for h in lines if h.startswith("Via:")]
    assert vias == [
        "Via: SIP/2.0/TCP client.invalid:5099;branch=z9hG4bKabc;received=127.0.0.1",
        "Via: SIP/2.0/TCP proxy.invalid;branch=z9hG4bKdef",
    ]
    assert "From: <sip:probe@client.invalid>;tag=111" in lines
    assert "Call-ID: call-42@client.invalid" in lines
    assert "CSeq: 7 OPTIONS" in lines
    assert any(h.startswith("To: <sip:127.0.0.1>;tag=") for h in lines)
    assert "Content-Length: 0" in lines


def test_options_over_tcp_tls_and_udp(listener: SipListener, root_ca_file: object) -> None:
    with socket.create_connection(("127.0.0.1", listener.ports["tcp"]), timeout=3) as tcp:
        tcp.sendall(OPTIONS)
        assert_echoed(read_response(tcp))
        tcp.sendall(OPTIONS)  # a second request on the same connection
        assert_echoed(read_response(tcp))

    ctx = ssl.create_default_context(cafile=str(root_ca_file))
    with (
        socket.create_connection(("127.0.0.1", listener.ports["tls"]), timeout=3) as raw,
        ctx.wrap_socket(raw, server_hostname="node1.lab.test") as tls,
    ):
        tls.sendall(OPTIONS)
        assert_echoed(read_response(tls))

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(3)
        udp.sendto(OPTIONS, ("127.0.0.1", listener.ports["udp"]))
        assert_echoed(udp.recv(65536).decode())


def test_other_methods_and_garbage(listener: SipListener) -> None:
    with socket.create_connection(("127.0.0.1", listener.ports["tcp"]), timeout=3) as tcp:
        tcp.sendall(OPTIONS.replace(b"OPTIONS sip", b"INVITE sip").replace(b"7 OPTIONS", b"7 INVITE"))
        assert headers_of(read_response(tcp))[0] == "SIP/2.0 501 Not Implemented"
    with socket.create_connection(("127.0.0.1", listener.ports["tcp"]), timeout=3) as tcp:
        tcp.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert headers_of(read_response(tcp))[0] == "SIP/2.0 400 Bad Request"


def test_reconfigure_moves_ports_and_closes_tls(listener: SipListener, node_cert: IssuedCertificate) -> None:
    old_tcp, old_tls = listener.ports["tcp"], listener.ports["tls"]
    listener.reconfigure(SipListenerSettings(sip_udp_port=None, sip_tcp_port=0, sip_tls_port=0, tls=None))
    assert listener.ports == {"tcp": old_tcp}  # port 0 keeps the port it picked; no cert -> no TLS
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old_tls), timeout=1)
    with socket.create_connection(("127.0.0.1", old_tcp), timeout=3) as tcp:
        tcp.sendall(OPTIONS)
        assert_echoed(read_response(tcp))
    listener.reconfigure(
        SipListenerSettings(sip_udp_port=0, sip_tcp_port=0, sip_tls_port=0, tls=posture_from(node_cert))
    )
    assert set(listener.ports) == {"udp", "tcp", "tls"}
