"""The node TLS posture: each wizard switch changes what a real client can negotiate."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from securemode.infra.nodes import SipListener, SipListenerSettings, TlsPosture, TlsPostureError, server_context
from securemode.infra.nodes.tls_posture import cipher_string
from securemode.infra.pki.ca import IssuedCertificate, LabCA
from tests.lab_infra.nodes.conftest import posture_from

pytestmark = [
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI (Debian package openssl) not installed"),
]


@contextmanager
def tls_port(posture: TlsPosture) -> Iterator[int]:
    sip = SipListener(
        "n", "127.0.0.1", SipListenerSettings(sip_udp_port=None, sip_tcp_port=None, sip_tls_port=0, tls=posture)
    )
    sip.start()
    try:
        yield sip.ports["tls"]
    finally:
        sip.stop()


def negotiate(port: int, version: ssl.TLSVersion, ciphers: str = "ALL:@SECLEVEL=0") -> str | None:
    """The negotiated 'protocol cipher', or None when the handshake fails."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    if version is not ssl.TLSVersion.TLSv1_3:
        ctx.set_ciphers(ciphers)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw, ctx.wrap_socket(raw) as tls:
            cipher = tls.cipher()
            return f"{tls.version()} {cipher[0] if cipher else ''}"
    except (ssl.SSLError, ConnectionResetError):
        return None


def test_strict_default(node_cert: IssuedCertificate) -> None:
    with tls_port(posture_from(node_cert)) as port:
        assert negotiate(port, ssl.TLSVersion.TLSv1) is None
        assert negotiate(port, ssl.TLSVersion.TLSv1_1) is None
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "ALL:@SECLEVEL=0") is not None
        assert negotiate(port, ssl.TLSVersion.TLSv1_3) is not None
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "aNULL:!eNULL:@SECLEVEL=0") is None


def test_enable_tls10_accepts_legacy_versions(node_cert: IssuedCertificate) -> None:
    with tls_port(posture_from(node_cert, enable_tls10=True)) as port:
        assert (negotiate(port, ssl.TLSVersion.TLSv1) or "").startswith("TLSv1 ")
        assert (negotiate(port, ssl.TLSVersion.TLSv1_1) or "").startswith("TLSv1.1 ")
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "aNULL:!eNULL:@SECLEVEL=0") is None


def test_enable_anon_dh_accepts_adh_and_aecdh(node_cert: IssuedCertificate) -> None:
    with tls_port(posture_from(node_cert, enable_anon_dh=True)) as port:
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "ADH:@SECLEVEL=0") == "TLSv1.2 ADH-AES256-GCM-SHA384"
        assert (negotiate(port, ssl.TLSVersion.TLSv1_2, "AECDH:@SECLEVEL=0") or "").startswith("TLSv1.2 AECDH-")
        assert negotiate(port, ssl.TLSVersion.TLSv1) is None


def test_fips_mode_overrides_and_restricts(node_cert: IssuedCertificate) -> None:
    posture = posture_from(node_cert, fips_mode=True, enable_tls10=True, enable_anon_dh=True)
    with tls_port(posture) as port:
        assert negotiate(port, ssl.TLSVersion.TLSv1) is None
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "aNULL:!eNULL:@SECLEVEL=0") is None
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-CHACHA20-POLY1305") is None
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA") is None  # SHA-1 MAC suite
        assert negotiate(port, ssl.TLSVersion.TLSv1_2, "ALL") == "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"
        assert "Cipher is TLS_AES_128_GCM_SHA256" in _openssl_tls13(port, "TLS_AES_128_GCM_SHA256")
        assert "Cipher is (NONE)" in _openssl_tls13(port, "TLS_CHACHA20_POLY1305_SHA256")


def test_non_fips_tls13_still_offers_chacha(node_cert: IssuedCertificate) -> None:
    """Control for the FIPS test above: the ChaCha20 refusal comes from fips_mode, not from the client."""
    with tls_port(posture_from(node_cert)) as port:
        assert "Cipher is TLS_CHACHA20_POLY1305_SHA256" in _openssl_tls13(port, "TLS_CHACHA20_POLY1305_SHA256")


def _openssl_tls13(port: int, suite: str) -> str:
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3", "-ciphersuites", suite],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return proc.stdout + proc.stderr


def test_cipher_strings_keep_anon_out_unless_asked() -> None:
    base = TlsPosture(certificate_pem="x", private_key_pem="y")
    assert "!aNULL" in cipher_string(base) and "SECLEVEL" not in cipher_string(base)
    anon = base.model_copy(update={"enable_anon_dh": True})
    assert "!aNULL" not in cipher_string(anon) and cipher_string(anon).endswith("@SECLEVEL=0")


def test_mismatched_key_is_a_clear_error_without_key_material(lab_ca: LabCA, node_cert: IssuedCertificate) -> None:
    other = lab_ca.issue_server("other", dns_names=["other.lab.test"])
    key_text = other.key_path.read_text()
    posture = TlsPosture(certificate_pem=node_cert.fullchain_path.read_text(), private_key_pem=key_text)
    with pytest.raises(TlsPostureError) as err:
        server_context(posture)
    assert "KEY_VALUES_MISMATCH" in str(err.value)
    body = "".join(key_text.splitlines()[1:-1])
    assert body[:40] not in str(err.value) and body[:40] not in repr(posture)
