"""The Endpoint every verifier takes: defaults, SNI choice, and what it refuses to hold."""

from __future__ import annotations

import pytest

from securemode.endpoint import Endpoint


def test_sni_is_the_server_name_else_a_dns_host() -> None:
    assert Endpoint("192.0.2.10", 443).sni is None
    assert Endpoint("2001:db8::10", 443).sni is None
    assert Endpoint("mgr.example.test", 443).sni == "mgr.example.test"
    assert Endpoint("192.0.2.10", 443, server_name="mgr.example.test").sni == "mgr.example.test"


def test_timeout_falls_back_to_the_verifiers_default() -> None:
    assert Endpoint("192.0.2.10", 22).timeout(5.0) == 5.0
    assert Endpoint("192.0.2.10", 22, timeout_s=0.5).timeout(5.0) == 0.5


def test_at_keeps_name_and_trust() -> None:
    https = Endpoint("192.0.2.10", 443, server_name="conf01.example.test", ca_file="/site/ca.pem")
    sip = https.at(5061)
    assert (sip.port, sip.server_name, sip.ca_file) == (5061, "conf01.example.test", "/site/ca.pem")
    assert str(sip) == "192.0.2.10:5061" and str(Endpoint("2001:db8::1", 443)) == "[2001:db8::1]:443"


@pytest.mark.parametrize(
    ("host", "port", "timeout"), [("", 443, None), ("h", 0, None), ("h", 70000, None), ("h", 443, 0.0)]
)
def test_nonsense_is_refused(host: str, port: int, timeout: float | None) -> None:
    with pytest.raises(ValueError):
        Endpoint(host, port, timeout_s=timeout)
