"""dnsmasq: two servers answer the lab zone exactly as configured and never forward."""

from __future__ import annotations

from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from securemode.infra.services import dns as lab_dns
from securemode.infra.services.process import bound_sockets
from tests.lab_infra.services.fixtures import DNS_ADDRESSES, RECORDS, process_gone


def _ask(h: lab_dns.DnsHandle, name: str, rdtype: str = "A") -> tuple[str, list[str]]:
    host, port = h.endpoints["dns"]
    reply = dns.query.udp(dns.message.make_query(name, rdtype), host, port=port, timeout=2)
    return dns.rcode.to_text(reply.rcode()), sorted(r.to_text() for rrset in reply.answer for r in rrset)


def test_both_servers_answer_every_record(dns_servers: list[lab_dns.DnsHandle]) -> None:
    assert [h.endpoints["dns"][0] for h in dns_servers] == list(DNS_ADDRESSES)
    assert dns_servers[0].endpoints["dns"][1] == dns_servers[1].endpoints["dns"][1]  # same port, two addresses
    for h in dns_servers:
        for name, address in RECORDS.items():
            assert _ask(h, name) == ("NOERROR", [address])


def test_tcp_also_answers(dns_servers: list[lab_dns.DnsHandle]) -> None:
    host, port = dns_servers[0].endpoints["dns"]
    reply = dns.query.tcp(dns.message.make_query("mgr.lab.securemode.test", "A"), host, port=port, timeout=2)
    assert [r.to_text() for rrset in reply.answer for r in rrset] == ["127.0.10.1"]


def test_unknown_names_nxdomain_and_no_forwarding(dns_servers: list[lab_dns.DnsHandle]) -> None:
    h = dns_servers[0]
    assert _ask(h, "absent.lab.securemode.test") == ("NXDOMAIN", [])
    rcode, answers = _ask(h, "example.com")
    assert answers == [] and rcode == "REFUSED"
    log = (h.workdir / "dnsmasq.log").read_text()
    assert "forwarded" not in log and "query[A] absent.lab.securemode.test" in log


def test_ipv6_and_multiple_addresses_and_stop(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a list of IP addresses"):
        lab_dns.start(tmp_path / "bad", {"x.lab.securemode.test": "not-an-ip"})
    h = lab_dns.start(
        tmp_path / "v6",
        {"v6.lab.securemode.test": ["::1"], "two.lab.securemode.test": ["127.0.20.1", "127.0.20.2"]},
        "127.0.0.9",
    )
    try:
        assert _ask(h, "v6.lab.securemode.test", "AAAA") == ("NOERROR", ["::1"])
        assert _ask(h, "two.lab.securemode.test") == ("NOERROR", ["127.0.20.1", "127.0.20.2"])
        assert h.startup_s < 10
    finally:
        h.stop()
    assert process_gone(h.pid)
    assert h.endpoints["dns"] not in bound_sockets("udp")
    h.stop()
