"""Stop each lab part in turn on a converged lab; every control that part serves must then be ERROR — never
PASS (a dead service proves nothing) and never FAIL (nothing was observed to be wrong).

The console is in test_dead_console.py: once the security wizard has disabled the admin account, SSH is
dropped by the node's firewall whether the console runs or not, so it serves nothing observable here.

The folder's converged lab (every control below was PASS while its part was alive); the parts are stopped one
by one and stay stopped; they are ordered so that each part's controls do not depend on a part stopped before
it. Each case checks the whole report of the stages that part serves. A part the previous module already
stopped (the syslog receiver, the first NTP server) stays stopped; its controls are judged the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from securemode.catalogue import Stage
from securemode.endpoint import Endpoint
from securemode.flows import stages
from securemode.flows.pipeline import PipelineOutcome
from securemode.infra.lab import processes
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.results import Result, Status
from securemode.verifiers import ldap
from tests.e2e.pipeline_runs import cli, status_lines

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

Served = Callable[[Result], bool]


def stop(lab: RunningLab, part: str) -> None:
    """Stop ``part`` (unless an earlier case already did) and make sure it is not running."""
    identity = lab.part(part).process
    assert identity is not None, part
    processes.stop(identity)
    assert not processes.is_running(identity), f"{part} is still running"


def judge(lab: RunningLab, converged: PipelineOutcome, part: str, affected: list[Stage], served: Served) -> None:
    """Stop ``part``, verify ``affected`` stages, and require ERROR for every result ``served`` selects."""
    assert converged.compliant(), converged.problems
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


def test_syslog_receiver(lab: RunningLab, converged: PipelineOutcome) -> None:
    judge(lab, converged, "syslog", [Stage.PLATFORM], lambda r: r.control == "platform.syslog.delivery")


def test_a_chronyd(lab: RunningLab, converged: PipelineOutcome) -> None:
    address = lab.site().site.ntp_servers[0].address
    judge(
        lab,
        converged,
        "ntp1",
        [Stage.PLATFORM],
        lambda r: r.control == "platform.ntp.authenticated" and r.target == address,
    )


def test_a_dnsmasq(lab: RunningLab, converged: PipelineOutcome) -> None:
    address = lab.part("dns1").endpoints["dns"].host
    judge(
        lab, converged, "dns1", [Stage.PLATFORM], lambda r: r.control == "platform.dns.answers" and r.target == address
    )


def test_slapd(lab: RunningLab, converged: PipelineOutcome) -> None:
    """No stage of the pipeline probes LDAP yet: the LDAP verifiers themselves must say ERROR."""
    site = lab.site()
    conf, slapd_part = site.site.ldap, lab.part("slapd")
    ldaps, plain = slapd_part.endpoints["ldaps"], slapd_part.endpoints["ldap"]
    password = site.secret(conf.bind_password).get_secret_value()

    def probes() -> list[Result]:
        return [
            ldap.check_ldap_service_bind(
                "auth.ldap.connection",
                "slapd",
                Endpoint(ldaps.host, ldaps.port, server_name=conf.server, ca_file=str(site.resolve_path(conf.ca_file))),
                mode="ldaps",
                bind_dn=conf.bind_dn,
                bind_password=password,
            ),
            ldap.check_ldap_plain_bind_refused(
                "auth.ldap.tls",
                "slapd",
                Endpoint(plain.host, plain.port),
                bind_dn=conf.bind_dn,
                ldaps=Endpoint(plain.host, ldaps.port),
            ),
        ]

    alive = probes()
    assert [r.status for r in alive] == [Status.PASS, Status.PASS], alive
    stop(lab, "slapd")
    dead = probes()
    assert [r.status for r in dead] == [Status.ERROR, Status.ERROR], dead
    degraded = cli(lab, "lab", "status")  # the lab's own status names it with the parts stopped before it
    assert degraded.returncode == 1
    lines = status_lines(degraded.stdout)
    down = [name for name, line in lines.items() if line.startswith("DOWN ")]
    assert "slapd" in down and lines["slapd"].startswith("DOWN slapd"), degraded.stdout
    [summary] = [line for line in degraded.stdout.splitlines() if line.startswith("lab degraded: ")]
    assert summary.endswith(f" down ({len(lines) - len(down)}/{len(lines)} parts answer)"), summary
    assert sorted(summary.removeprefix("lab degraded: ").split(" down (")[0].split(", ")) == sorted(down), summary


# What a conferencing node's own agent answers (SNMP, SIP, HTTPS/TLS), as opposed to the Management API.
NODE_BEHAVIOUR = ("pki.cert.", "pki.tls1", "pki.sip-tls.", "pki.anon-dh", "platform.snmp.", "bootstrap.wizard.sip-")
# Served by other lab parts (chronyd, dnsmasq, each node's SNMP agent), not by the Management Node's HTTPS.
OTHER_SERVICES = (
    "platform.ntp.authenticated",
    "platform.dns.answers",
    "platform.snmp.v2c-refused",
    "platform.snmp.wrong-credentials",
)


def test_a_node_agent(lab: RunningLab, converged: PipelineOutcome) -> None:
    """conf01's agent serves its SNMP, SIP and HTTPS (TLS): every behavioural result for conf01."""
    judge(
        lab,
        converged,
        "node-conf01",
        [Stage.BOOTSTRAP, Stage.PKI, Stage.PLATFORM],
        lambda r: r.target == "conf01" and r.control.startswith(NODE_BEHAVIOUR),
    )


def test_the_twin(lab: RunningLab, converged: PipelineOutcome) -> None:
    """The Management Node's HTTPS and API: every result of its stages but what conf02's agent (alive) and
    the NTP/DNS servers answer by themselves."""
    judge(
        lab,
        converged,
        "twin",
        [Stage.BOOTSTRAP, Stage.PKI, Stage.PLATFORM],
        lambda r: (
            not (r.target == "conf02" and r.control.startswith(NODE_BEHAVIOUR)) and r.control not in OTHER_SERVICES
        ),
    )


def test_vcsim(lab: RunningLab, converged: PipelineOutcome) -> None:
    judge(lab, converged, "vcsim", [Stage.HOST, Stage.VMS], lambda r: True)
