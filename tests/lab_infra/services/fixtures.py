"""Fixtures shared by the service and verifier tests: a lab CA and one running instance of each service.

Each service fixture starts the real daemon on a free loopback port and stops it by PID afterwards.
Import the fixtures you need into a conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.infra.pki.ca import LabCA
from securemode.infra.services import chrony, dns, rsyslog, slapd

ZONE = "lab.securemode.test"
RECORDS = {
    f"mgr.{ZONE}": "127.0.10.1",
    f"conf1.{ZONE}": "127.0.10.2",
    f"conf2.{ZONE}": "127.0.10.3",
    f"ldap.{ZONE}": "127.0.0.1",
    f"ntp1.{ZONE}": "127.0.0.2",
    f"ntp2.{ZONE}": "127.0.0.3",
}
NTP_ADDRESSES = ("127.0.0.2", "127.0.0.3")
DNS_ADDRESSES = ("127.0.0.4", "127.0.0.5")


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("services-ca") / "ca")


@pytest.fixture(scope="session")
def rogue_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    """A CA nobody trusts: its root must never verify a lab server."""
    return LabCA.create(tmp_path_factory.mktemp("rogue-ca") / "ca", name="rogue")


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory, lab_ca: LabCA) -> Iterator[slapd.SlapdHandle]:
    handle = slapd.start(tmp_path_factory.mktemp("slapd"), lab_ca)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def ntp_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[chrony.ChronyHandle]]:
    handles: list[chrony.ChronyHandle] = []
    try:
        handles.append(chrony.start(tmp_path_factory.mktemp("chrony1"), NTP_ADDRESSES[0]))
        handles.append(
            chrony.start(tmp_path_factory.mktemp("chrony2"), NTP_ADDRESSES[1], keys=chrony.default_keys(11, 12))
        )
        yield handles
    finally:
        for h in handles:
            h.stop()


@pytest.fixture(scope="session")
def syslog_receiver(tmp_path_factory: pytest.TempPathFactory, lab_ca: LabCA) -> Iterator[rsyslog.RsyslogHandle]:
    handle = rsyslog.start(tmp_path_factory.mktemp("rsyslog"), lab_ca)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def dns_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dns.DnsHandle]]:
    handles: list[dns.DnsHandle] = []
    try:
        first = dns.start(tmp_path_factory.mktemp("dns1"), RECORDS, DNS_ADDRESSES[0])
        handles.append(first)
        handles.append(
            dns.start(tmp_path_factory.mktemp("dns2"), RECORDS, DNS_ADDRESSES[1], port=first.endpoints["dns"][1])
        )
        yield handles
    finally:
        for h in handles:
            h.stop()


def process_gone(pid: int) -> bool:
    """True when no live process has ``pid`` (a reaped child leaves no /proc entry)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
