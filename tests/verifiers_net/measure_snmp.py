"""Measure SNMPv3 probe latency and concurrent vs. sequential probing of many nodes.

Run: ``.venv/bin/python -m tests.verifiers_net.measure_snmp [NODES]`` (default 20). The node agents
run in a child process (one loopback address each, 127.0.77.N), so their CPU does not compete with
the probes for this process's GIL; the child is stopped by PID at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from securemode.endpoint import Endpoint
from securemode.results import Result, Status
from securemode.verifiers import snmp

USER, AUTH, PRIV = "monitor", "AuthSecret-1", "PrivSecret-1"
_DESCR = {snmp.SYS_DESCR: "Pexip Infinity node (securemode lab twin)"}


def serve(count: int) -> None:
    """Child: start ``count`` AUTHPRIV agents, print 'address port' per agent, sleep until killed."""
    from securemode.infra.nodes import SnmpAgent, SnmpAgentSettings, SnmpMode

    settings = SnmpAgentSettings(
        snmp_mode=SnmpMode.AUTHPRIV,
        snmp_username=USER,
        snmp_authentication_password=AUTH,
        snmp_privacy_password=PRIV,
    )
    agents = [SnmpAgent(f"conf{i:02}.lab.test", f"127.0.77.{i + 1}", 0, settings) for i in range(count)]
    for agent in agents:
        agent.start()
        print(agent.address, agent.port, flush=True)
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM})


def probe_one(address: str, port: int) -> Result:
    return asyncio.run(snmp.check_v3_get("snmp.v3", address, Endpoint(address, port), USER, AUTH, PRIV, retries=0))


async def warm_gets(address: str, port: int, count: int) -> list[float]:
    """Durations of ``count`` GETs through one engine (after the first, discovery is cached)."""
    async with snmp.shared_engine() as engine:
        results = [
            await snmp.check_v3_get(
                "snmp.v3", address, Endpoint(address, port), USER, AUTH, PRIV, retries=0, engine=engine
            )
            for _ in range(count)
        ]
    return [r.duration_s for r in results]


async def probe_sequential_shared(nodes: list[tuple[str, int]]) -> list[Result]:
    async with snmp.shared_engine() as engine:
        return [
            await snmp.check_v3_get("snmp.v3", a, Endpoint(a, p), USER, AUTH, PRIV, retries=0, engine=engine)
            for a, p in nodes
        ]


async def community_probes(nodes: list[tuple[str, int]], concurrent: bool) -> list[Result]:
    """v2c 'public' probes (each waits its full timeout, since the agents are AUTHPRIV)."""
    async with snmp.shared_engine() as engine:
        probes = [
            snmp.check_community_refused("snmp.v2c", a, Endpoint(a, p), "public", engine=engine) for a, p in nodes
        ]
        if concurrent:
            return await snmp.gather_results(*probes)
        return [await one for one in probes]


async def probe_all(nodes: list[tuple[str, int]], share: bool) -> list[Result]:
    if not share:
        return await snmp.gather_results(
            *(snmp.check_v3_get("snmp.v3", a, Endpoint(a, p), USER, AUTH, PRIV, retries=0) for a, p in nodes)
        )
    async with snmp.shared_engine() as engine:
        return await snmp.gather_results(
            *(
                snmp.check_v3_get("snmp.v3", a, Endpoint(a, p), USER, AUTH, PRIV, retries=0, engine=engine)
                for a, p in nodes
            )
        )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.verifiers_net.measure_snmp", "--serve", str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        nodes: list[tuple[str, int]] = []
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "ready":
                break
            address, port = line.split()
            nodes.append((address, int(port)))
        single = [probe_one(*nodes[0]).duration_s for _ in range(5)]
        warm = asyncio.run(warm_gets(*nodes[0], 6))
        t0 = time.perf_counter()
        sequential = [probe_one(a, p) for a, p in nodes]
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        sequential_shared = asyncio.run(probe_sequential_shared(nodes))
        t_seq_shared = time.perf_counter() - t0
        t0 = time.perf_counter()
        concurrent = asyncio.run(probe_all(nodes, share=False))
        t_conc = time.perf_counter() - t0
        t0 = time.perf_counter()
        shared = asyncio.run(probe_all(nodes, share=True))
        t_shared = time.perf_counter() - t0
        t0 = time.perf_counter()
        neg_seq = asyncio.run(community_probes(nodes, concurrent=False))
        t_neg_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        neg_conc = asyncio.run(community_probes(nodes, concurrent=True))
        t_neg_conc = time.perf_counter() - t0
        ok = all(
            r.status is Status.PASS for r in sequential + sequential_shared + concurrent + shared + neg_seq + neg_conc
        )
        names = [r.observed["values"] for r in shared if isinstance(r.observed, dict)]
        names_right = names == [{snmp.SYS_NAME: f"conf{i:02}.lab.test"} | _DESCR for i in range(count)]
        print(f"single SNMPv3 authPriv GET (fresh engine, discovery + GET): median {sorted(single)[2]:.3f}s")
        print(f"same GET through a warm shared engine: first {warm[0]:.3f}s, then median {sorted(warm[1:])[2]:.3f}s")
        print(f"{count} nodes sequential (engine each): {t_seq:.2f}s")
        print(f"{count} nodes concurrent (engine each): {t_conc:.2f}s  ratio {t_seq / t_conc:.1f}x")
        print(f"{count} nodes sequential (one shared engine): {t_seq_shared:.2f}s")
        print(
            f"{count} nodes concurrent (one shared engine): {t_shared:.2f}s  ratio {t_seq / t_shared:.1f}x"
            f" vs sequential engine-each, {t_seq_shared / t_shared:.1f}x vs sequential shared"
        )
        print(
            f"{count} negative v2c probes (timeout {snmp.DEFAULT_TIMEOUT_S}s): sequential {t_neg_seq:.2f}s,"
            f" concurrent {t_neg_conc:.2f}s, ratio {t_neg_seq / t_neg_conc:.1f}x"
        )
        print(f"all PASS: {ok}; shared-engine answers matched their nodes: {names_right}")
    finally:
        os.kill(child.pid, signal.SIGTERM)
        child.wait(5)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        serve(int(sys.argv[2]))
    else:
        main()
