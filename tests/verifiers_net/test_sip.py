"""SIP OPTIONS verifier against the node's SIP listener (TCP, TLS, UDP) and against non-SIP peers."""

from __future__ import annotations

import socket
import threading

from securemode.endpoint import Endpoint
from securemode.infra.nodes import SipListener
from securemode.infra.pki.ca import LabCA
from securemode.results import Status
from securemode.verifiers.sip import SipTransport, check_options

HOST = "127.0.0.1"


def test_options_answered_on_every_transport(sip_node: SipListener, lab_ca: LabCA) -> None:
    for transport in SipTransport:
        result = check_options("sip.options", "conf01", Endpoint(HOST, sip_node.ports[transport.value]), transport)
        assert result.status is Status.PASS, result
        assert isinstance(result.observed, dict) and result.observed["status"] == 200
    verified = check_options(
        "sip.options", "conf01", Endpoint(HOST, sip_node.ports["tls"], ca_file=str(lab_ca.root_path)), SipTransport.TLS
    )
    assert verified.status is Status.PASS, verified


def test_untrusted_tls_is_error_not_pass(sip_node: SipListener, rogue_ca: LabCA) -> None:
    result = check_options(
        "sip.options",
        "conf01",
        Endpoint(HOST, sip_node.ports["tls"], ca_file=str(rogue_ca.root_path)),
        SipTransport.TLS,
    )
    assert result.status is Status.ERROR and "certificate verify failed" in result.message


def test_nothing_listening_is_error() -> None:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = int(s.getsockname()[1])
    assert check_options("sip.options", "c", Endpoint(HOST, port, timeout_s=1), SipTransport.TCP).status is Status.ERROR
    assert check_options("sip.options", "c", Endpoint(HOST, port, timeout_s=1), SipTransport.UDP).status is Status.ERROR


def test_non_sip_answer_fails() -> None:
    with socket.create_server((HOST, 0)) as server:

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        result = check_options(
            "sip.options", "c", Endpoint(HOST, server.getsockname()[1], timeout_s=2), SipTransport.TCP
        )
    assert result.status is Status.FAIL and "not a SIP response" in result.message
