"""SNMP probes: SNMPv3 authPriv (SHA1 / AES-128, as the guide requires) works; communities get nothing.

All probes are asyncio coroutines (pysnmp 7 ``v3arch.asyncio`` hlapi) with short timeouts, so the
probes of many nodes run concurrently with :func:`gather_results`; each has a synchronous twin
(``*_sync``) for callers without a loop. Every probe uses its own ``SnmpEngine``: nothing is shared
with the engine's tasks or with other probes.

Negative probes:

* community (v1/v2c) GET: a timeout is PASS (nothing answered); any answer is FAIL.
* wrong authentication key: the agent must reject it explicitly (Report ``usmStatsWrongDigests``,
  unknown user, …) for a PASS; a value is FAIL; silence is ERROR, because a dead agent is silent too.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field

from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_SHA,
    USM_PRIV_CFB128_AES,
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.proto import errind

from securemode.endpoint import Endpoint
from securemode.redact import register_secret
from securemode.results import JsonValue, Result, probe
from securemode.site import WELL_KNOWN_COMMUNITIES
from securemode.verifiers import snmp_exchange

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
DEFAULT_TIMEOUT_S = 0.8
DEFAULT_RETRIES = 0
# Explicit refusals an agent sends (Report PDUs / security errors), as opposed to silence.
_REJECTIONS = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnsupportedSecurityLevel,
    errind.UnknownEngineID,
    errind.NotInTimeWindow,
    errind.DecryptionError,
    errind.AuthenticationFailure,
    errind.ReportPduReceived,
)


@dataclass
class SnmpAnswer:
    """One GET exchange: the error indication / status, or the values, and how long it took."""

    error_indication: str | None
    error_kind: str | None
    error_status: str | None
    values: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    timed_out: bool = False
    rejected: bool = False

    def evidence(self) -> dict[str, JsonValue]:
        return {
            "error_indication": self.error_indication,
            "error_kind": self.error_kind,
            "error_status": self.error_status,
            "values": dict(self.values),
            "elapsed_ms": round(self.elapsed_s * 1000, 1),
        }


async def snmp_get(
    agent: Endpoint,
    auth: CommunityData | UsmUserData,
    oids: Sequence[str],
    retries: int = DEFAULT_RETRIES,
    engine: SnmpEngine | None = None,
) -> SnmpAnswer:
    """One GET (with ``engine``, or a fresh one); protocol outcomes are in the answer, never raised."""
    timeout = agent.timeout(DEFAULT_TIMEOUT_S)
    own = engine is None
    snmp_engine = SnmpEngine() if engine is None else engine
    t0 = time.perf_counter()
    try:
        target = await UdpTransportTarget.create((agent.host, agent.port), timeout=timeout, retries=retries)
        answer = await snmp_exchange.get(snmp_engine, auth, target, list(oids))
    finally:
        if own:
            snmp_engine.close_dispatcher()
    elapsed = time.perf_counter() - t0
    ei = answer.error_indication
    if ei:
        return SnmpAnswer(
            error_indication=str(ei),
            error_kind=type(ei).__name__,
            error_status=None,
            elapsed_s=elapsed,
            timed_out=isinstance(ei, errind.RequestTimedOut),
            rejected=isinstance(ei, _REJECTIONS),
        )
    status = answer.error_status.prettyPrint() if answer.error_status else None
    values = {str(name): value.prettyPrint() for name, value in answer.var_binds or []}
    return SnmpAnswer(error_indication=None, error_kind=None, error_status=status, values=values, elapsed_s=elapsed)


LIVENESS_USER = "securemode-liveness"  # a user no agent knows: a live agent answers with a Report


async def agent_alive(agent: Endpoint, retries: int = 1, engine: SnmpEngine | None = None) -> tuple[bool, str]:
    """(alive, why): whether an SNMP agent answers at all, in SNMP — a GET as an unknown v3 user must
    draw a Report (unknown user / engine discovery). Silence proves nothing: a dead agent is silent too.
    Own engine, or ``engine`` shared only by liveness probes: the probe's user must not enter the tables
    of an engine that probes with real credentials. noAuthNoPriv on purpose (S509): an unknown user
    carries no secret, and the Report it draws is the whole point."""
    answer = await snmp_get(agent, UsmUserData(LIVENESS_USER), [SYS_NAME], retries, engine)  # noqa: S509
    if answer.rejected or answer.values or answer.error_status:
        return True, f"the agent answered an unknown v3 user ({answer.error_kind or answer.error_status or 'values'})"
    return False, f"no SNMP answer to an unknown v3 user ({answer.error_indication})"


class LivenessChecks:
    """One liveness exchange per agent for a batch of concurrent probes: the probes of one agent that ask
    at the same moment (the v2c and v1 community GETs) share its answer instead of each sending its own.
    ``engine`` must hold no real credentials (see :func:`agent_alive`)."""

    def __init__(self, engine: SnmpEngine) -> None:
        self.engine = engine
        self._asked: dict[tuple[str, int], asyncio.Task[tuple[bool, str]]] = {}

    async def alive(self, agent: Endpoint) -> tuple[bool, str]:
        key = (agent.host, agent.port)
        if key not in self._asked:
            self._asked[key] = asyncio.create_task(agent_alive(agent, engine=self.engine))
        return await self._asked[key]


def v3_credentials(username: str, auth_key: str, priv_key: str) -> UsmUserData:
    """SNMPv3 authPriv credentials with HMAC-SHA1-96 and AES-128 (CFB128)."""
    return UsmUserData(username, auth_key, priv_key, authProtocol=USM_AUTH_HMAC96_SHA, privProtocol=USM_PRIV_CFB128_AES)


async def check_v3_get(
    control: str,
    target: str,
    agent: Endpoint,
    username: str,
    auth_key: str,
    priv_key: str,
    *,
    expected_sysname: str | None = None,
    retries: int = 1,
    engine: SnmpEngine | None = None,
) -> Result:
    """PASS when an authPriv GET of sysName and sysDescr returns both (and sysName as expected).

    ``engine`` (from :func:`shared_engine`) lets a batch of probes of many nodes share one client
    engine: pysnmp compiles its MIB modules for every new engine, which is most of a probe's CPU.
    """
    register_secret(auth_key)
    register_secret(priv_key)
    expected: JsonValue = {"sysName": expected_sysname} if expected_sysname else "authPriv GET answers"
    with probe(control, target, expected=expected) as p:
        p.log(f"SNMPv3 authPriv SHA/AES-128 GET sysName.0 sysDescr.0 as {username!r} from {agent.host}:{agent.port}")
        credentials = v3_credentials(username, auth_key, priv_key)
        answer = await snmp_get(agent, credentials, [SYS_NAME, SYS_DESCR], retries, engine)
        p.log(f"answer: {answer.error_indication or answer.error_status or 'values'} in {answer.elapsed_s:.3f}s")
        name, descr = answer.values.get(SYS_NAME), answer.values.get(SYS_DESCR)
        if answer.timed_out:
            alive, why = await agent_alive(agent)
            p.log(why)
            if alive:
                p.failed(
                    answer.evidence(),
                    "no answer to an authPriv GET while the agent answers others (wrong privacy key or user)",
                )
            else:
                p.error(
                    "no SNMP answer at all: the agent is down or SNMP is off, so the credentials cannot be judged",
                    answer.evidence(),
                )
        elif answer.error_indication and not answer.rejected:
            p.error(f"the GET could not be completed: {answer.error_indication}", answer.evidence())
        elif answer.error_indication or answer.error_status:
            p.failed(answer.evidence(), f"authPriv GET refused: {answer.error_indication or answer.error_status}")
        elif not name or not descr or "No Such" in name or "No Such" in descr:
            p.failed(answer.evidence(), "sysName/sysDescr missing from the answer")
        else:
            p.check(
                expected_sysname is None or name == expected_sysname,
                answer.evidence(),
                f"sysName is {name!r}, expected {expected_sysname!r}",
            )
    return p.result


async def check_community_refused(
    control: str,
    target: str,
    agent: Endpoint,
    community: str,
    mp_model: int = 1,
    *,
    retries: int = DEFAULT_RETRIES,
    engine: SnmpEngine | None = None,
    liveness: LivenessChecks | None = None,
) -> Result:
    """PASS when a v2c (``mp_model=1``) or v1 (``0``) GET with ``community`` gets no answer at all.

    ``liveness``: the batch's shared liveness checks (else this probe asks on an engine of its own;
    building one per probe costs CPU that, with many nodes, holds up every other probe on the loop)."""
    well_known = community in WELL_KNOWN_COMMUNITIES
    if not well_known:
        register_secret(community)  # a site community is a credential; "public" is not (and is a common word)
    # Name which community was tried, never the site's string itself.
    which = f"SNMP{'v2c' if mp_model == 1 else 'v1'} with " + (
        f"community {community!r}" if well_known else "the site's community"
    )
    with probe(control, target, expected=f"{which} gets nothing") as p:
        p.log(f"{which}: GET sysName.0 to {agent.host}:{agent.port}")
        credentials = CommunityData(community, mpModel=mp_model)
        # Whether the agent is up is asked at the same time, not after the GET's timeout: the probe then
        # takes the timeout, not the timeout plus a liveness exchange.
        answer, (alive, why) = await asyncio.gather(
            snmp_get(agent, credentials, [SYS_NAME], retries, engine),
            liveness.alive(agent) if liveness is not None else agent_alive(agent))
        p.log(f"answer: {answer.error_indication or answer.error_status or answer.values}")
        if answer.timed_out:
            p.log(why)
            if alive:
                timeout = agent.timeout(DEFAULT_TIMEOUT_S)
                p.passed(answer.evidence(), f"{which}: no answer within {timeout}s x {retries + 1}")
            else:
                p.error(f"{which}: no answer, but no SNMP agent answers at all either: {why}", answer.evidence())
        elif answer.error_indication and not answer.rejected:
            p.error(f"{which}: the GET could not be completed: {answer.error_indication}", answer.evidence())
        else:
            p.failed(answer.evidence(), f"{which}: the agent answered")
    return p.result


async def check_wrong_auth_rejected(
    control: str, target: str, agent: Endpoint, username: str, priv_key: str, *, retries: int = 1,
    engine: SnmpEngine | None = None, wrong_auth: str | None = None,
) -> Result:
    """Negative control: an authPriv GET with a random wrong authentication key must be rejected.

    Never on an engine whose USM table holds this user's real key (the two could be mixed up): without
    ``engine`` it uses its own; an ``engine`` given must be shared by wrong-key probes only, which then
    share one random ``wrong_auth`` too (a fresh engine per probe costs ~50 ms of CPU loading its MIBs).
    One retry, as for the GET with the real key: a rejection is an answer, and a lost datagram or an agent
    busy with its neighbours' probes must not read as silence.
    """
    register_secret(priv_key)
    wrong_auth = wrong_auth or random_wrong_key()
    with probe(control, target, expected="wrong auth key rejected") as p:
        p.log(f"SNMPv3 authPriv GET as {username!r} with a random wrong auth key to {agent.host}:{agent.port}")
        credentials = v3_credentials(username, wrong_auth, priv_key)
        answer = await snmp_get(agent, credentials, [SYS_NAME], retries, engine=engine)
        p.log(f"answer: {answer.error_indication or answer.error_status or answer.values}")
        if answer.rejected or answer.error_status:
            p.passed(answer.evidence(), f"rejected: {answer.error_kind or answer.error_status}")
        elif answer.timed_out:
            p.error("no answer at all: a rejection cannot be told apart from a silent agent", answer.evidence())
        elif answer.error_indication:
            p.error(f"unexpected error: {answer.error_indication}", answer.evidence())
        else:
            p.failed(answer.evidence(), "the agent answered a request with a wrong authentication key")
    return p.result


def random_wrong_key() -> str:
    """An authentication key no agent holds."""
    return "wrong-" + secrets.token_hex(8)


@contextlib.asynccontextmanager
async def shared_engine() -> AsyncIterator[SnmpEngine]:
    """One client engine for a batch of concurrent probes (closed afterwards)."""
    engine = SnmpEngine()
    try:
        yield engine
    finally:
        engine.close_dispatcher()


async def gather_results(*probes: Awaitable[Result]) -> list[Result]:
    """Run probes concurrently (e.g. one per node) and return their results in order."""
    return list(await asyncio.gather(*probes))
