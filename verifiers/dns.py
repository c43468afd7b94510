"""DNS: a configured server answers for every node FQDN with exactly the expected address(es).

One UDP query per name (A for IPv4 expectations, AAAA for IPv6) to an explicit server and port, with
no recursion through the system resolver. A wrong address, NXDOMAIN, an error rcode or silence for any
name is FAIL; the evidence lists every name's answer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from securemode.endpoint import Endpoint
from securemode.results import JsonValue, Probe, Result, probe

DEFAULT_TIMEOUT_S = 2.0


def check_dns_answers(
    control: str, target: str, server: Endpoint, *, expected: Mapping[str, str | Sequence[str]]
) -> Result:
    """Ask ``server`` for each name in ``expected``; PASS when every answer set equals the expectation."""
    shown: dict[str, JsonValue] = {n: v if isinstance(v, str) else list(v) for n, v in expected.items()}
    with probe(control, target, expected=shown) as p:
        want = {_fqdn(name): _address_set(value) for name, value in expected.items()}  # ValueError: ERROR
        if not want:
            p.error("no names to check: the expected record set is empty")
        else:
            _check_all(p, server.host, server.port, want, server.timeout(DEFAULT_TIMEOUT_S))
    return p.result


def _check_all(p: Probe, server: str, port: int, want: Mapping[str, set[str]], timeout: float) -> None:
    observed: dict[str, JsonValue] = {}
    problems: list[str] = []
    unanswered: list[str] = []
    for name, addresses in want.items():
        families = {ipaddress.ip_address(a).version for a in addresses}
        got: set[str] = set()
        for version in sorted(families):
            rdtype = dns.rdatatype.A if version == 4 else dns.rdatatype.AAAA
            answer, problem = _query(p, server, port, name, rdtype, timeout)
            got |= answer
            if problem.startswith(_NO_ANSWER):
                unanswered.append(f"{name}: {problem}")
            elif problem:
                problems.append(f"{name}: {problem}")
        observed[name] = sorted(got)
        if got != addresses:
            problems.append(f"{name}: answered {sorted(got) or 'nothing'}, expected {sorted(addresses)}")
    evidence: JsonValue = {"server": server, "port": port, "answers": observed}
    if unanswered:  # a dead or unreachable server proves nothing about its records
        p.error(f"the DNS server did not answer: {'; '.join(dict.fromkeys(unanswered))}", evidence)
        return
    message = "; ".join(dict.fromkeys(problems))  # keep order, drop duplicates
    p.check(not problems, {"server": server, "port": port, "answers": observed}, message)


_NO_ANSWER = "no answer"


def _query(
    p: Probe, server: str, port: int, name: str, rdtype: dns.rdatatype.RdataType, timeout: float
) -> tuple[set[str], str]:
    """The addresses ``server`` gives for ``name``/``rdtype``, and a problem text ('' when it answered)."""
    type_text = dns.rdatatype.to_text(rdtype)
    query = dns.message.make_query(name, rdtype)
    try:
        reply = dns.query.udp(query, server, port=port, timeout=timeout)
    except dns.exception.Timeout:
        p.log(f"{name} {type_text} @{server}:{port}: no answer within {timeout:.1f}s")
        return set(), f"{_NO_ANSWER} within {timeout:.1f}s"
    except OSError as exc:
        p.log(f"{name} {type_text} @{server}:{port}: {exc}")
        return set(), f"{_NO_ANSWER}: query failed: {exc}"
    rcode = dns.rcode.to_text(reply.rcode())
    found = {str(rdata.address) for rrset in reply.answer if rrset.rdtype == rdtype for rdata in rrset}
    p.log(f"{name} {type_text} @{server}:{port}: {rcode} {sorted(found)}")
    if reply.rcode() != dns.rcode.NOERROR:
        return found, f"rcode {rcode}"
    return found, ""


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower()


def _address_set(value: str | Sequence[str]) -> set[str]:
    values = [value] if isinstance(value, str) else list(value)
    return {str(ipaddress.ip_address(v)) for v in values}
