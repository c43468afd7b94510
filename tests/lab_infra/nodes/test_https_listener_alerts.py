"""A conferencing node's HTTPS listener refuses TLS 1.0 the way OpenSSL (and the Management Node) does:
with a protocol_version alert, not a silent close. And a bare TCP accept-then-close — a relay in front of
a dead service — never passes a refusal probe."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.lab.https_listener import HttpsListener
from securemode.infra.pki.ca import IssuedCertificate
from securemode.results import Status
from securemode.verifiers import tls
from securemode.verifiers.tls import TlsVersion

from .conftest import posture_from

pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")


@pytest.fixture
def listener(node_cert: IssuedCertificate) -> Iterator[HttpsListener]:
    https = HttpsListener("conf01", "127.0.0.1", 0, posture_from(node_cert))
    https.start()
    try:
        yield https
    finally:
        https.stop()


def test_tls10_hello_draws_a_protocol_version_alert(listener: HttpsListener) -> None:
    hs = tls.handshake(Endpoint("127.0.0.1", listener.port), tls.version_context(TlsVersion.TLS1_0))
    assert not hs.completed and hs.hello_sent
    assert hs.alert == "protocol_version(70)", hs
    result = tls.check_protocol_refused(
        "pki.tls10-refused", "conf01", Endpoint("127.0.0.1", listener.port), TlsVersion.TLS1_0
    )
    assert result.status is Status.PASS and "alert protocol_version" in result.message, result


def test_the_listener_still_serves_https(listener: HttpsListener) -> None:
    result = tls.check_protocol_accepted("pki.tls12-accepted", "conf01", Endpoint("127.0.0.1", listener.port))
    assert result.status is Status.PASS, result
    alive, why = tls.service_answers_tls(Endpoint("127.0.0.1", listener.port))
    assert alive, why


def test_a_relay_to_a_dead_service_is_error_for_every_tls_probe() -> None:
    """Accept, then close at once (what the lab's relay does when the HTTPS process behind it is gone)."""
    with socket.create_server(("127.0.0.1", 0)) as relay:
        port = int(relay.getsockname()[1])
        relay.settimeout(0.1)
        stop = threading.Event()

        def accept_and_close() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    conn, _ = relay.accept()
                    conn.recv(4096)
                    conn.close()

        threading.Thread(target=accept_and_close, daemon=True).start()
        try:
            results = [
                tls.check_protocol_refused("pki.tls10-refused", "mgr", Endpoint("127.0.0.1", port), TlsVersion.TLS1_0),
                tls.check_protocol_refused("pki.tls11-refused", "mgr", Endpoint("127.0.0.1", port), TlsVersion.TLS1_1),
                tls.check_protocol_accepted("pki.tls12-accepted", "mgr", Endpoint("127.0.0.1", port)),
                tls.check_anon_dh_refused("pki.anon-dh-refused", "mgr", Endpoint("127.0.0.1", port)),
                tls.check_names("pki.cert.name", "mgr", Endpoint("127.0.0.1", port), ["mgr.lab.test"]),
            ]
            alive, _ = tls.service_answers_tls(Endpoint("127.0.0.1", port))
        finally:
            stop.set()
    assert {r.control: r.status for r in results} == {r.control: Status.ERROR for r in results}, results
    assert not alive
