"""SNMP verifiers against the real node agent in each snmp_mode."""

from __future__ import annotations

import asyncio
import socket

from securemode.endpoint import Endpoint
from securemode.infra.nodes import SnmpAgent, SnmpAgentSettings, SnmpMode
from securemode.results import Result, Status
from securemode.verifiers import snmp

from .conftest import AUTHPRIV, SITE_COMMUNITY, SNMP_AUTH, SNMP_PRIV, SNMP_USER

HOST = "127.0.0.1"
SYS_NAME = "conf01.lab.test"


def silent_udp_port() -> tuple[socket.socket, int]:
    """A bound UDP socket that never answers: a host where SNMP is dropped."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    return sock, int(sock.getsockname()[1])


def test_v3_authpriv_get_passes(snmp_node: SnmpAgent) -> None:
    agent = Endpoint(HOST, snmp_node.port)
    v3_get = snmp.check_v3_get("snmp.v3", "conf01", agent, SNMP_USER, SNMP_AUTH, SNMP_PRIV, expected_sysname=SYS_NAME)
    result = asyncio.run(v3_get)
    assert result.status is Status.PASS, result
    assert isinstance(result.observed, dict)
    assert result.observed["values"] == {
        snmp.SYS_NAME: "conf01.lab.test",
        snmp.SYS_DESCR: "Pexip Infinity node (securemode lab twin)",
    }
    dumped = result.model_dump_json()
    assert SNMP_AUTH not in dumped and SNMP_PRIV not in dumped


def test_v3_fails_on_wrong_sysname_wrong_priv_and_wrong_mode(snmp_node: SnmpAgent) -> None:
    agent = Endpoint(HOST, snmp_node.port)
    other = asyncio.run(snmp.check_v3_get("snmp.v3", "c", agent, SNMP_USER, SNMP_AUTH, SNMP_PRIV, expected_sysname="x"))
    assert other.status is Status.FAIL and "conf01.lab.test" in other.message
    bad_priv = asyncio.run(snmp.check_v3_get("snmp.v3", "c", agent, SNMP_USER, SNMP_AUTH, "NotThePriv-1", retries=0))
    assert bad_priv.status is Status.FAIL, bad_priv
    snmp_node.reconfigure(SnmpAgentSettings(snmp_mode=SnmpMode.STANDARD, snmp_community=SITE_COMMUNITY))
    standard = asyncio.run(snmp.check_v3_get("snmp.v3", "c", agent, SNMP_USER, SNMP_AUTH, SNMP_PRIV, retries=0))
    assert standard.status is Status.FAIL, standard


def test_communities_get_nothing_in_authpriv_mode(snmp_node: SnmpAgent) -> None:
    probes = [
        snmp.check_community_refused("snmp.v2c", "c", Endpoint(HOST, snmp_node.port), community, model)
        for community in ("public", SITE_COMMUNITY)
        for model in (1, 0)
    ]
    results = asyncio.run(snmp.gather_results(*probes))
    assert [r.status for r in results] == [Status.PASS] * 4, results
    assert all(SITE_COMMUNITY not in r.model_dump_json() for r in results)


def test_v2c_public_answered_in_standard_public_mode_is_fail(snmp_node: SnmpAgent) -> None:
    snmp_node.reconfigure(SnmpAgentSettings(snmp_mode=SnmpMode.STANDARD))  # community defaults to "public"
    for model in (1, 0):  # v2c, and v1 (its answer converted to a v2c PDU)
        result = asyncio.run(snmp.check_community_refused("snmp.v2c", "conf01", Endpoint(HOST, snmp_node.port),
                                                          "public", model))
        assert result.status is Status.FAIL, result
        assert isinstance(result.observed, dict) and result.observed["values"] == {snmp.SYS_NAME: "conf01.lab.test"}


def test_wrong_auth_key_negative_control(snmp_node: SnmpAgent) -> None:
    agent = Endpoint(HOST, snmp_node.port)
    result = asyncio.run(snmp.check_wrong_auth_rejected("snmp.neg", "conf01", agent, SNMP_USER, SNMP_PRIV))
    assert result.status is Status.PASS, result
    assert isinstance(result.observed, dict) and result.observed["error_kind"] == "WrongDigest"
    sock, port = silent_udp_port()
    with sock:
        silent_agent = Endpoint(HOST, port)
        silent = asyncio.run(snmp.check_wrong_auth_rejected("snmp.neg", "conf01", silent_agent, SNMP_USER, SNMP_PRIV))
    assert silent.status is Status.ERROR, silent


def test_many_nodes_concurrently() -> None:
    agents = [SnmpAgent(f"conf{i:02}.lab.test", HOST, 0, AUTHPRIV) for i in range(4)]
    for agent in agents:
        agent.start()

    async def probe_batch() -> list[Result]:
        async with snmp.shared_engine() as engine:
            probes = [
                snmp.check_v3_get(
                    "snmp.v3",
                    a.hostname,
                    Endpoint(HOST, a.port),
                    SNMP_USER,
                    SNMP_AUTH,
                    SNMP_PRIV,
                    expected_sysname=a.hostname,
                    engine=engine,
                )
                for a in agents
            ]
            probes += [
                snmp.check_community_refused("snmp.v2c", a.hostname, Endpoint(HOST, a.port), "public", engine=engine)
                for a in agents
            ]
            return await snmp.gather_results(*probes)

    try:
        results = asyncio.run(probe_batch())
    finally:
        for agent in agents:
            agent.stop()
    assert [r.status for r in results] == [Status.PASS] * 8
    assert [r.target for r in results[:4]] == [a.hostname for a in agents]


def test_v2c_refused_names_the_community_that_answered_in_one_message(snmp_node: SnmpAgent) -> None:
    """Two probes of one control: the merged message is the failing probe's, naming which community answered
    ("public" or "the site's community"), never the site's community string, never the passing probe's text."""
    from securemode.verifiers.api import merge_same_target

    def v2c_result() -> Result:
        agent = Endpoint(HOST, snmp_node.port)
        probes = [
            snmp.check_community_refused("platform.snmp.v2c-refused", "conf01", agent, c)
            for c in ("public", SITE_COMMUNITY)
        ]
        [merged] = merge_same_target(asyncio.run(snmp.gather_results(*probes)))
        return merged

    snmp_node.reconfigure(SnmpAgentSettings(snmp_mode=SnmpMode.STANDARD))  # answers "public"
    public = v2c_result()
    assert public.status is Status.FAIL
    assert public.message == "SNMPv2c with community 'public': the agent answered"
    snmp_node.reconfigure(SnmpAgentSettings(snmp_mode=SnmpMode.STANDARD, snmp_community=SITE_COMMUNITY))
    site = v2c_result()
    assert site.status is Status.FAIL
    assert site.message == "SNMPv2c with the site's community: the agent answered"
    assert SITE_COMMUNITY not in site.model_dump_json()
    snmp_node.reconfigure(AUTHPRIV)
    refused = v2c_result()
    assert refused.status is Status.PASS
    assert refused.message.startswith("SNMPv2c with community 'public': no answer within ")
    assert "; SNMPv2c with the site's community: no answer within " in refused.message


def test_shared_engine_probes_with_the_agent_gone_are_error_never_pass(snmp_node: SnmpAgent) -> None:
    """The platform stage's shape: the wrong-key probes share one engine and one wrong key, the community
    probes ask for liveness (on that engine, one check per agent) at the same time as their GET. With
    nothing answering, each is ERROR."""
    live = Endpoint(HOST, snmp_node.port)
    sock, port = silent_udp_port()

    async def both() -> list[Result]:
        async with snmp.shared_engine() as wrong, snmp.shared_engine() as engine:
            key = snmp.random_wrong_key()
            liveness = snmp.LivenessChecks(wrong)
            return await snmp.gather_results(
                snmp.check_wrong_auth_rejected("snmp.neg", "live", live, SNMP_USER, SNMP_PRIV, engine=wrong,
                                               wrong_auth=key),
                snmp.check_wrong_auth_rejected("snmp.neg", "gone", Endpoint(HOST, port), SNMP_USER, SNMP_PRIV,
                                               engine=wrong, wrong_auth=key),
                snmp.check_community_refused("snmp.v2c", "gone", Endpoint(HOST, port), "public", engine=engine,
                                             liveness=liveness),
                snmp.check_community_refused("snmp.v1", "gone", Endpoint(HOST, port), "public", 0, engine=engine,
                                             liveness=liveness),
                snmp.check_community_refused("snmp.v2c", "live", live, "public", engine=engine, liveness=liveness),
                snmp.check_community_refused("snmp.v1", "live", live, "public", 0, engine=engine, liveness=liveness),
            )

    with sock:
        shared_live, shared_gone, v2c_gone, v1_gone, v2c_live, v1_live = asyncio.run(both())
    assert shared_live.status is Status.PASS, shared_live
    assert v2c_live.status is Status.PASS and v1_live.status is Status.PASS, (v2c_live, v1_live)
    assert shared_gone.status is Status.ERROR, shared_gone
    assert v2c_gone.status is Status.ERROR, v2c_gone
    assert v1_gone.status is Status.ERROR, v1_gone
