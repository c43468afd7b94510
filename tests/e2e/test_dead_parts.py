"""Stop each lab part in turn on a converged lab; every control that part serves must then be ERROR — never
PASS (a dead service proves nothing) and never FAIL (nothing was observed to be wrong).

The console is in test_dead_console.py: once the security wizard has disabled the admin account, SSH is
dropped by the node's firewall whether the console runs or not, so it serves nothing observable here.

One lab for the module: it converges first (so every control below was PASS while its part was alive), then
the parts are stopped one by one and stay stopped; they are ordered so that each part's controls do not
depend on a part stopped before it. Each case checks the whole report of the stages that part serves.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.pipeline import PipelineOutcome
from infra.lab import processes
from infra.lab.pytest_fixture import RunningLab
from securemode import stages
from securemode.catalogue import Stage
from securemode.endpoint import Endpoint
from securemode.results import Result, Status
from verifiers import ldap

from .test_lab_pipeline import run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

Served = Callable[[Result], bool]


@pytest.fixture(scope="module")
def converged(own_lab: RunningLab) -> PipelineOutcome:
    outcome = run(own_lab)
    assert outcome.compliant(), outcome.problems
    return outcome


def stop(lab: RunningLab, part: str) -> None:
    identity = lab.part(part).process
    assert identity is not None, part
    assert processes.stop(identity), f"{part} was not running"


def judge(lab: RunningLab, converged: PipelineOutcome, part: str, affected: list[Stage], served: Served) -> None:
    """Stop ``part``, verify ``affected`` stages, and require ERROR for every result ``served`` selects."""
    before = {(r.control, r.target): r.status for s in converged.stages for r in s.results}
    stop(lab, part)
    loaded = lab.site()
    results = [r for stage in affected for r in stages.load(stage).verify(loaded)]
    mine = [r for r in results if served(r) and r.status is not Status.NOT_APPLICABLE]  # N/A: the site's choice
    assert mine, f"{part}: no result of {[s.value for s in affected]} is served by it"
    wrong = {(r.control, r.target): (r.status.value, r.message[:160]) for r in mine if r.status is not Status.ERROR}
    assert not wrong, f"{part} stopped, yet: {wrong}"
    was_pass = [r for r in mine if before.get((r.control, r.target)) is Status.PASS]
    assert was_pass, f"{part}: none of its controls was PASS while it ran, so this case proves nothing"


def test_syslog_receiver(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    judge(own_lab, converged, "syslog", [Stage.PLATFORM], lambda r: r.control == "platform.syslog.delivery")


def test_a_chronyd(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    address = own_lab.site().site.ntp_servers[0].address
    judge(own_lab, converged, "ntp1", [Stage.PLATFORM],
          lambda r: r.control == "platform.ntp.authenticated" and r.target == address)


def test_a_dnsmasq(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    address = own_lab.part("dns1").endpoints["dns"].host
    judge(own_lab, converged, "dns1", [Stage.PLATFORM],
          lambda r: r.control == "platform.dns.answers" and r.target == address)


def test_slapd(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    """No stage of the pipeline probes LDAP yet: the LDAP verifiers themselves must say ERROR."""
    site = own_lab.site()
    conf, slapd_part = site.site.ldap, own_lab.part("slapd")
    ldaps, plain = slapd_part.endpoints["ldaps"], slapd_part.endpoints["ldap"]
    password = site.secret(conf.bind_password).get_secret_value()

    def probes() -> list[Result]:
        return [
            ldap.check_ldap_service_bind("auth.ldap.connection", "slapd", Endpoint(
                ldaps.host, ldaps.port, server_name=conf.server, ca_file=str(site.resolve_path(conf.ca_file))),
                mode="ldaps", bind_dn=conf.bind_dn, bind_password=password),
            ldap.check_ldap_plain_bind_refused("auth.ldap.tls", "slapd", Endpoint(plain.host, plain.port),
                                               bind_dn=conf.bind_dn, ldaps=Endpoint(plain.host, ldaps.port)),
        ]

    alive = probes()
    assert [r.status for r in alive] == [Status.PASS, Status.PASS], alive
    stop(own_lab, "slapd")
    dead = probes()
    assert [r.status for r in dead] == [Status.ERROR, Status.ERROR], dead


# What a conferencing node's own agent answers (SNMP, SIP, HTTPS/TLS), as opposed to the Management API.
NODE_BEHAVIOUR = ("pki.cert.", "pki.tls1", "pki.sip-tls.", "pki.anon-dh", "platform.snmp.", "bootstrap.wizard.sip-")
# Served by other lab parts (chronyd, dnsmasq, each node's SNMP agent), not by the Management Node's HTTPS.
OTHER_SERVICES = ("platform.ntp.authenticated", "platform.dns.answers", "platform.snmp.v2c-refused",
                  "platform.snmp.wrong-credentials")


def test_a_node_agent(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    """conf01's agent serves its SNMP, SIP and HTTPS (TLS): every behavioural result for conf01."""
    judge(own_lab, converged, "node-conf01", [Stage.BOOTSTRAP, Stage.PKI, Stage.PLATFORM],
          lambda r: r.target == "conf01" and r.control.startswith(NODE_BEHAVIOUR))


def test_the_twin(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    """The Management Node's HTTPS and API: every result of its stages but what conf02's agent (alive) and
    the NTP/DNS servers answer by themselves."""
    judge(own_lab, converged, "twin", [Stage.BOOTSTRAP, Stage.PKI, Stage.PLATFORM],
          lambda r: not (r.target == "conf02" and r.control.startswith(NODE_BEHAVIOUR))
          and r.control not in OTHER_SERVICES)


def test_vcsim(own_lab: RunningLab, converged: PipelineOutcome) -> None:
    judge(own_lab, converged, "vcsim", [Stage.HOST, Stage.VMS], lambda r: True)
