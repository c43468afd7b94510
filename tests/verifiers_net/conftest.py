"""Real servers for the network verifiers: node TLS listeners with chosen certificates and postures,
SNMP agents in each snmp_mode, all on 127.0.0.1 with free ports, stopped after each test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from securemode.infra.nodes import SipListener, SipListenerSettings, SnmpAgent, SnmpAgentSettings, SnmpMode, TlsPosture
from securemode.infra.pki.ca import IssuedCertificate, LabCA, Validity

NODE_NAMES = ["conf01.lab.test", "sip.lab.test"]
SNMP_USER, SNMP_AUTH, SNMP_PRIV, SITE_COMMUNITY = "monitor", "AuthSecret-1", "PrivSecret-1", "s1te-c0mm"

StartTls = Callable[..., int]


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("vnet-ca") / "ca")


@pytest.fixture(scope="session")
def rogue_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("vnet-rogue") / "ca", name="rogue")


@pytest.fixture(scope="session")
def good_cert(lab_ca: LabCA) -> IssuedCertificate:
    return lab_ca.issue_server("good", dns_names=NODE_NAMES, ip_addresses=["127.0.0.1"])


@pytest.fixture(scope="session")
def certs(lab_ca: LabCA, rogue_ca: LabCA, good_cert: IssuedCertificate) -> dict[str, IssuedCertificate]:
    now = dt.datetime.now(dt.UTC)
    return {
        "good": good_cert,
        "expired": lab_ca.issue_server("expired", dns_names=NODE_NAMES, validity=Validity.expired()),
        "expiring": lab_ca.issue_server(
            "expiring", dns_names=NODE_NAMES, validity=Validity(now - dt.timedelta(days=1), now + dt.timedelta(days=10))
        ),
        "wrong_name": lab_ca.issue_server("wrong", dns_names=["other.lab.test"]),
        "untrusted": rogue_ca.issue_server("untrusted", dns_names=NODE_NAMES, ip_addresses=["127.0.0.1"]),
        "cn_only": lab_ca.issue_server("cnonly", common_name="conf01.lab.test"),
    }


def posture(issued: IssuedCertificate, **switches: bool) -> TlsPosture:
    return TlsPosture(
        certificate_pem=issued.fullchain_path.read_text(), private_key_pem=issued.key_path.read_text(), **switches
    )


@pytest.fixture
def start_tls(good_cert: IssuedCertificate) -> Iterator[StartTls]:
    """start_tls(cert=good, **switches) -> port of a node's SIP TLS listener (also TCP on ports['tcp'])."""
    started: list[SipListener] = []

    def start(cert: IssuedCertificate | None = None, **switches: bool) -> int:
        settings = SipListenerSettings(
            sip_udp_port=None, sip_tcp_port=None, sip_tls_port=0, tls=posture(cert or good_cert, **switches)
        )
        listener = SipListener("conf01.lab.test", "127.0.0.1", settings)
        listener.start()
        started.append(listener)
        return listener.ports["tls"]

    yield start
    for listener in started:
        listener.stop()


@pytest.fixture
def sip_node(good_cert: IssuedCertificate) -> Iterator[SipListener]:
    listener = SipListener(
        "conf01.lab.test",
        "127.0.0.1",
        SipListenerSettings(sip_udp_port=0, sip_tcp_port=0, sip_tls_port=0, tls=posture(good_cert)),
    )
    listener.start()
    yield listener
    listener.stop()


AUTHPRIV = SnmpAgentSettings(
    snmp_mode=SnmpMode.AUTHPRIV,
    snmp_username=SNMP_USER,
    snmp_authentication_password=SNMP_AUTH,
    snmp_privacy_password=SNMP_PRIV,
    snmp_community=SITE_COMMUNITY,
)


@pytest.fixture
def snmp_node() -> Iterator[SnmpAgent]:
    """A node agent in AUTHPRIV mode (the guide's setting) with a non-public community configured."""
    agent = SnmpAgent("conf01.lab.test", "127.0.0.1", 0, AUTHPRIV)
    agent.start()
    yield agent
    agent.stop()
