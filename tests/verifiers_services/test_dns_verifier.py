"""securemode.verifiers.dns against two real dnsmasq servers."""

from __future__ import annotations

from pathlib import Path

from securemode.endpoint import Endpoint
from securemode.infra.services import dns as lab_dns
from securemode.results import Result, Status
from securemode.verifiers.dns import check_dns_answers
from tests.lab_infra.services.fixtures import RECORDS

CONTROL = "platform.dns.servers"


def _check(h: lab_dns.DnsHandle, expected: dict[str, str | list[str]], timeout: float = 2.0) -> Result:
    host, port = h.endpoints["dns"]
    return check_dns_answers(CONTROL, f"dns@{host}", Endpoint(host, port, timeout_s=timeout), expected=expected)


def test_every_server_answers_every_node(dns_servers: list[lab_dns.DnsHandle]) -> None:
    for h in dns_servers:
        r = _check(h, dict(RECORDS))
        assert r.status is Status.PASS, r.message
        assert isinstance(r.observed, dict)
        assert r.observed["answers"] == {name: [addr] for name, addr in RECORDS.items()}
        assert len(r.transcript) == len(RECORDS)


def test_wrong_address_fails(tmp_path: Path) -> None:
    poisoned = dict(RECORDS) | {"conf1.lab.securemode.test": "127.0.99.99"}
    h = lab_dns.start(tmp_path / "poisoned", poisoned, "127.0.0.13")
    try:
        r = _check(h, dict(RECORDS))
    finally:
        h.stop()
    assert r.status is Status.FAIL
    assert r.message == "conf1.lab.securemode.test: answered ['127.0.99.99'], expected ['127.0.10.2']"


def test_missing_name_fails_with_nxdomain(dns_servers: list[lab_dns.DnsHandle]) -> None:
    r = _check(dns_servers[1], {"conf9.lab.securemode.test": "127.0.10.9", "mgr.lab.securemode.test": "127.0.10.1"})
    assert r.status is Status.FAIL
    assert "conf9.lab.securemode.test: rcode NXDOMAIN" in r.message
    assert "mgr.lab" not in r.message


def test_ipv6_expectation_uses_aaaa(tmp_path: Path) -> None:
    h = lab_dns.start(tmp_path / "v6", {"mgr6.lab.securemode.test": ["::1", "127.0.10.1"]}, "127.0.0.14")
    try:
        r = _check(h, {"mgr6.lab.securemode.test": ["127.0.10.1", "::1"]})
    finally:
        h.stop()
    assert r.status is Status.PASS, r.message
    assert any(" AAAA " in line for line in r.transcript)


def test_stopped_server_is_error_with_timeout_evidence(tmp_path: Path) -> None:
    """A dead server proves nothing about its records: ERROR, never FAIL."""
    h = lab_dns.start(tmp_path / "gone", RECORDS, "127.0.0.15")
    h.stop()
    r = _check(h, {"mgr.lab.securemode.test": "127.0.10.1"}, timeout=0.3)
    assert r.status is Status.ERROR
    assert "no answer within 0.3s" in r.message
    assert r.transcript == [f"mgr.lab.securemode.test A @127.0.0.15:{h.endpoints['dns'][1]}: no answer within 0.3s"]


def test_bad_expectation_is_error(dns_servers: list[lab_dns.DnsHandle]) -> None:
    assert _check(dns_servers[0], {"mgr.lab.securemode.test": "not-an-address"}).status is Status.ERROR
    assert _check(dns_servers[0], {}).status is Status.ERROR
