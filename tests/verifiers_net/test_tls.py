"""TLS verifiers against real node TLS listeners with each posture and certificate defect."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

from securemode.endpoint import Endpoint
from securemode.infra.pki.ca import IssuedCertificate, LabCA
from securemode.results import Status
from securemode.verifiers import tls
from securemode.verifiers.tls import TlsVersion

from .conftest import NODE_NAMES, StartTls

HOST = "127.0.0.1"
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def test_self_test_proves_the_probe_can_complete_tls10() -> None:
    result = tls.legacy_probe_self_test()
    assert result.status is Status.PASS, result
    assert result.observed == {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1.1"}


def test_strict_server_refuses_legacy_and_anon_and_accepts_tls12(start_tls: StartTls) -> None:
    port = start_tls()
    for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_1):
        result = tls.check_protocol_refused("tls.old", "conf01", Endpoint(HOST, port), version)
        assert result.status is Status.PASS, result
        assert isinstance(result.observed, dict) and result.observed["handshake"] == "failed"
    accepted = tls.check_protocol_accepted("tls.12", "conf01", Endpoint(HOST, port), TlsVersion.TLS1_2)
    assert accepted.status is Status.PASS, accepted
    observed = accepted.observed
    assert isinstance(observed, dict)
    assert observed["protocol"] == "TLSv1.2" and observed["cipher"]
    assert observed["subject"] == "CN=conf01.lab.test"
    assert "sip.lab.test" in observed["sans"] and "127.0.0.1" in observed["sans"] and observed["not_after"]
    assert tls.check_anon_dh_refused("tls.adh", "conf01", Endpoint(HOST, port)).status is Status.PASS


def test_tls10_enabled_server_fails_the_refusal_probe(start_tls: StartTls) -> None:
    port = start_tls(enable_tls10=True)
    result = tls.check_protocol_refused("tls.10", "conf01", Endpoint(HOST, port), TlsVersion.TLS1_0)
    assert result.status is Status.FAIL, result
    assert isinstance(result.observed, dict) and result.observed["protocol"] == "TLSv1"
    assert result.observed["server_hello_version"] == "TLSv1"
    assert tls.check_protocol_refused("tls.11", "c", Endpoint(HOST, port), TlsVersion.TLS1_1).status is Status.FAIL


def test_anon_dh_enabled_server_fails(start_tls: StartTls) -> None:
    result = tls.check_anon_dh_refused("tls.adh", "conf01", Endpoint(HOST, start_tls(enable_anon_dh=True)))
    assert result.status is Status.FAIL, result
    assert isinstance(result.observed, dict) and str(result.observed["cipher"]).startswith(("ADH-", "AECDH-"))


def test_chain(start_tls: StartTls, certs: dict[str, IssuedCertificate], lab_ca: LabCA) -> None:
    ca = str(lab_ca.root_path)
    good = tls.check_chain_trusted("tls.chain", "conf01", Endpoint(HOST, start_tls(certs["good"]), ca_file=ca))
    assert good.status is Status.PASS, good
    untrusted = tls.check_chain_trusted(
        "tls.chain", "conf01", Endpoint(HOST, start_tls(certs["untrusted"]), ca_file=ca)
    )
    assert untrusted.status is Status.FAIL and "unable to get local issuer" in untrusted.message
    assert isinstance(untrusted.observed, dict) and "rogue" in str(untrusted.observed["issuer"])
    expired = tls.check_chain_trusted("tls.chain", "conf01", Endpoint(HOST, start_tls(certs["expired"]), ca_file=ca))
    assert expired.status is Status.FAIL and "expired" in expired.message


def test_names(start_tls: StartTls, certs: dict[str, IssuedCertificate]) -> None:
    good_port = start_tls(certs["good"])
    assert (
        tls.check_names("tls.names", "conf01", Endpoint(HOST, good_port), [*NODE_NAMES, "127.0.0.1"]).status
        is Status.PASS
    )
    missing_ip = tls.check_names("tls.names", "conf01", Endpoint(HOST, good_port), ["127.0.0.2"])
    assert missing_ip.status is Status.FAIL and "127.0.0.2" in missing_ip.message
    wrong = tls.check_names("tls.names", "conf01", Endpoint(HOST, start_tls(certs["wrong_name"])), NODE_NAMES)
    assert wrong.status is Status.FAIL and "conf01.lab.test" in wrong.message
    cn_only = tls.check_names("tls.names", "conf01", Endpoint(HOST, start_tls(certs["cn_only"])), ["conf01.lab.test"])
    assert cn_only.status is Status.PASS and "CN only" in cn_only.message


def test_validity(start_tls: StartTls, certs: dict[str, IssuedCertificate]) -> None:
    good = tls.check_validity("tls.valid", "conf01", Endpoint(HOST, start_tls(certs["good"])), warn_days=30)
    assert good.status is Status.PASS and good.message == ""
    soon = tls.check_validity("tls.valid", "conf01", Endpoint(HOST, start_tls(certs["expiring"])), warn_days=30)
    assert soon.status is Status.PASS and soon.message.startswith("WARNING: expires in")
    expired = tls.check_validity("tls.valid", "conf01", Endpoint(HOST, start_tls(certs["expired"])))
    assert expired.status is Status.FAIL and "expired" in expired.message


def test_key_consistency(start_tls: StartTls, certs: dict[str, IssuedCertificate]) -> None:
    good, other = certs["good"], certs["wrong_name"]
    port = start_tls(good)
    key = good.key_path.read_text()
    matches = tls.check_key_matches("tls.key", "conf01", Endpoint(HOST, port), key)
    assert matches.status is Status.PASS, matches
    mismatch = tls.check_key_matches("tls.key", "conf01", Endpoint(HOST, port), other.key_path.read_text())
    assert mismatch.status is Status.FAIL
    offline = tls.check_key_pair("tls.key", "conf01", good.cert_path.read_text(), other.key_path.read_text())
    assert offline.status is Status.FAIL
    assert tls.check_key_pair("tls.key", "c", good.cert_path.read_text(), key).status is Status.PASS
    key_body = "".join(key.splitlines()[1:-1])
    for result in (matches, mismatch, offline):
        assert key_body[:32] not in result.model_dump_json()


@pytest.mark.parametrize(
    "check",
    [
        lambda port: tls.check_protocol_refused("c", "t", Endpoint(HOST, port), TlsVersion.TLS1_0),
        lambda port: tls.check_protocol_accepted("c", "t", Endpoint(HOST, port)),
        lambda port: tls.check_anon_dh_refused("c", "t", Endpoint(HOST, port)),
        lambda port: tls.check_chain_trusted("c", "t", Endpoint(HOST, port, ca_file="/nonexistent-is-not-read.pem")),
        lambda port: tls.check_names("c", "t", Endpoint(HOST, port), ["x"]),
        lambda port: tls.check_validity("c", "t", Endpoint(HOST, port)),
    ],
)
def test_nothing_listening_is_error(check: object) -> None:
    result = check(free_port())  # type: ignore[operator]
    assert result.status is Status.ERROR, result


def test_plain_tcp_server_is_not_a_tls_pass() -> None:
    """A port that speaks no TLS: refusal probes may pass, but the acceptance probe must fail."""
    with socket.create_server((HOST, 0)) as server:
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"SIP/2.0 400 Bad Request\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        result = tls.check_protocol_accepted("c", "t", Endpoint(HOST, port))
    assert result.status is Status.FAIL, result


def test_a_probe_that_sends_nothing_is_told_apart_from_a_refusal(start_tls: StartTls) -> None:
    """Python's default client ciphers (!SHA1) leave no TLS 1.0 suite: no ClientHello must not look like a refusal."""
    port = start_tls()
    broken = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    broken.check_hostname, broken.verify_mode = False, ssl.CERT_NONE
    broken.minimum_version = broken.maximum_version = ssl.TLSVersion.TLSv1
    hs = tls.handshake(Endpoint(HOST, port), broken)
    assert not hs.completed and not hs.hello_sent, hs
    real = tls.handshake(Endpoint(HOST, port), tls.version_context(TlsVersion.TLS1_0))
    assert not real.completed and real.hello_sent, real


def test_server_hello_reveals_acceptance_even_when_our_side_aborts(start_tls: StartTls, rogue_ca: LabCA) -> None:
    """Our side gives up after the server's ServerHello (here: it cannot verify the certificate); the
    server still accepted TLS 1.0, and the ServerHello the probe parsed says so."""
    port = start_tls(enable_tls10=True)
    aborting = tls.verifying_context(str(rogue_ca.root_path))
    aborting.minimum_version = aborting.maximum_version = ssl.TLSVersion.TLSv1
    aborting.set_ciphers(tls.LEGACY_CIPHERS)
    hs = tls.handshake(Endpoint(HOST, port), aborting)
    assert not hs.completed and hs.hello_sent and hs.verify_error, hs
    assert hs.server_hello_version == "TLSv1"
