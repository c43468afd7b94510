"""The HTTPS listener's TLS posture follows the security settings and authentication/1/ per connection."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from securemode.infra.twin import TwinManagementNode
from tests.lab_infra.twin.certs import ScratchCA
from tests.lab_infra.twin.conftest import NodeFactory
from tests.lab_infra.twin.tlsprobe import handshake

TLS10 = {"version": ssl.TLSVersion.TLSv1, "ciphers": "ALL:@SECLEVEL=0"}


@pytest.fixture
def node(make_twin: NodeFactory) -> TwinManagementNode:
    return make_twin()


def test_tls10_follows_the_securitywizard_answer(node: TwinManagementNode) -> None:
    assert node.state.security_settings().enable_tls10 is True  # the guide's default is YES
    assert handshake(node.port, **TLS10) is not None  # type: ignore[arg-type]
    node.state.set_security_settings(node.state.security_settings().updated(enable_tls10=False))
    assert handshake(node.port, **TLS10) is None  # type: ignore[arg-type]
    accepted = handshake(node.port, ssl.TLSVersion.TLSv1_2)
    assert accepted is not None and accepted[0] == "TLSv1.2"


def test_fips_mode_restricts_ciphers_and_versions(node: TwinManagementNode) -> None:
    assert handshake(node.port, ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-CHACHA20-POLY1305") is not None
    node.state.set_security_settings(node.state.security_settings().updated(fips_mode=True, enable_tls10=False))
    assert handshake(node.port, ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-CHACHA20-POLY1305") is None
    assert handshake(node.port, ssl.TLSVersion.TLSv1_3) is None
    accepted = handshake(node.port, ssl.TLSVersion.TLSv1_2)
    assert accepted is not None and "GCM" in accepted[1]


def test_client_certificate_requested_and_verified_only_when_configured(
    node: TwinManagementNode, ca: ScratchCA, tmp_path: Path
) -> None:
    rogue = ScratchCA("Rogue CA")
    cert, key = rogue.client("alice")
    (tmp_path / "c.pem").write_text(cert)
    (tmp_path / "k.pem").write_text(key)
    pair = (str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    assert handshake(node.port, cert=pair) is not None  # not requested: ignored
    auth = node.state.store.get("authentication", 1)
    assert auth is not None
    node.state.store.put(
        "authentication", 1, {**auth, "source": "LDAP+LOCAL", "ldap_server": "127.0.0.1", "client_certificate": "CN"}
    )
    node.state.store.insert("ca_certificate", {"certificate": ca.pem, "trusted_intermediate": False})
    assert handshake(node.port, cert=pair) is None  # requested and verified: the rogue CA is refused
    good_cert, good_key = ca.client("alice")
    (tmp_path / "c.pem").write_text(good_cert)
    (tmp_path / "k.pem").write_text(good_key)
    assert handshake(node.port, cert=pair) is not None
