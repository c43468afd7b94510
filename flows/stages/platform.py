"""Stage ``platform``: global settings, account roles, DNS/NTP/syslog, SNMPv3, locations, IPv6.

Verify: API read-back of every applied setting on a fresh session, plus behaviour — an SNMPv3 GET with
the site's credentials and no answer to v2c (``public`` or the site's community) or to wrong v3
credentials on every node; an authenticated NTP exchange with each server's key; each DNS server
answering for the nodes' FQDNs; an audit event (a failed API login) reaching each syslog receiver.
Read-back and behaviour of the same control and target are combined into one result. Each control's
fix and proofs are bound below; the verify loop is built from those bindings and the row's target kind.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import SecretStr

from securemode.binding import (
    Binding,
    Call,
    Job,
    Planned,
    Proof,
    SessionRunner,
    Target,
    call,
    checked,
    each_at_once,
    from_batch,
    planned,
    run_sessions,
    waiting_first,
)
from securemode.catalogue import BY_ID, Stage, TargetKind, controls_for
from securemode.catalogue.platform import GLOBAL_SETTINGS, PORT_RANGES
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import API_PORT
from securemode.pexip.errors import ApiError, TransientApiError
from securemode.pexip.trust import choose_trust, recorded_pin, site_ca_bundle
from securemode.results import Result, probe
from securemode.site import NtpServer, SyslogServer
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.platform import (
    ensure_dns,
    ensure_global_settings,
    ensure_ipv6,
    ensure_locations,
    ensure_ntp,
    ensure_roles,
    ensure_snmp,
    ensure_syslog,
)
from securemode.verifiers import dns, ntp, snmp, syslog
from securemode.verifiers.api import combine, readback_platform

_TRANSIENT = (TransientApiError,)
API, SNMP = "api", "snmp"
DNS_PORT = 53


@dataclass(frozen=True)
class PlatformProbe:
    """What a platform verifier needs: the site (secrets resolved through it) and, inside the SNMP
    session, the shared SNMP engines."""

    loaded: LoadedSite
    engine: Any = None
    # An engine that holds no real key: the wrong-key probes' one random wrong key, and the liveness
    # checks' unknown user (one check per agent, shared by its community probes).
    keyless_engine: Any = None
    liveness: Any = None
    wrong_key: str = field(default_factory=snmp.random_wrong_key)

    def secret(self, ref: str) -> str:
        return self.loaded.secret(ref).get_secret_value()


# SNMP ---------------------------------------------------------------------------------------------------
def _snmp_v3(ctx: PlatformProbe, t: Target) -> Call:
    conf = ctx.loaded.site.snmp
    return call(Endpoint(str(t.subject.address), conf.port), conf.username, ctx.secret(conf.auth_password),
                ctx.secret(conf.priv_password), engine=ctx.engine)


def _community(which: Callable[[PlatformProbe], str]) -> Callable[[PlatformProbe, Target], Call]:
    return lambda ctx, t: call(Endpoint(str(t.subject.address), ctx.loaded.site.snmp.port), which(ctx),
                               engine=ctx.engine, liveness=ctx.liveness)


def _wrong_auth(ctx: PlatformProbe, t: Target) -> Call:
    conf = ctx.loaded.site.snmp
    return call(Endpoint(str(t.subject.address), conf.port), conf.username, ctx.secret(conf.priv_password),
                engine=ctx.keyless_engine, wrong_auth=ctx.wrong_key)


async def _snmp_session(ctx: PlatformProbe, jobs: list[Job[PlatformProbe]]) -> list[Result]:
    """Every SNMP probe concurrently, on two shared engines: one for the real credentials' GETs, one that
    holds no real key (the wrong-key probes' random key, the liveness checks' unknown user). The community
    probes, which wait out a timeout, send first."""
    async with snmp.shared_engine() as engine, snmp.shared_engine() as keyless:
        with_engines = PlatformProbe(ctx.loaded, engine, keyless, snmp.LivenessChecks(keyless), ctx.wrong_key)
        order = waiting_first(jobs)
        started = await snmp.gather_results(*(jobs[i].start(with_engines) for i in order))
        return [result for _i, result in sorted(zip(order, started, strict=True), key=lambda pair: pair[0])]


# NTP and syslog -----------------------------------------------------------------------------------------
def check_ntp_server(control: str, target: str, loaded: LoadedSite, server: NtpServer) -> Result:
    """An authenticated exchange with the server's key (FAIL when the site gives the server no key)."""
    if server.key is None or server.key_id is None:
        with probe(control, target) as p:
            p.failed(None, "the site gives this NTP server no key")
        return p.result
    return ntp.check_authenticated_ntp(control, target, Endpoint(server.address, server.port), key_id=server.key_id,
                                       key=loaded.secret(server.key).get_secret_value(),
                                       algorithm=server.algorithm.value)


def failed_login(loaded: LoadedSite, port: int = API_PORT) -> Callable[[str], None]:
    """Cause an audit event: an API request as a user named ``marker`` with a wrong password and no client
    certificate — a refused login before the auth stage's cut-over, a request refused for want of a
    certificate after it; the node records either under the name offered."""

    def cause(marker: str) -> None:
        node = loaded.site.management_node
        host = str(node.address)
        trust = choose_trust(host, port, node.fqdn, site_ca_bundle(loaded), recorded_pin(loaded, host))
        api = ManagementApi(f"https://{host}:{port}", marker, SecretStr(secrets.token_hex(16)), trust)
        try:
            api.get(config_uri("global", 1))
        except ApiError as exc:
            if exc.status not in (401, 403):
                raise
        finally:
            api.close()

    return cause


def check_syslog_delivery(control: str, target: str, loaded: LoadedSite, server: SyslogServer) -> Result:
    """A failed API login's audit event reaches this receiver (ERROR when its evidence cannot be read)."""
    if server.evidence_file is None:
        with probe(control, target) as p:
            p.error("the site gives no evidence_file for this receiver, so what it got cannot be read")
        return p.result
    sent = syslog.send_syslog(server.address, server.port, server.transport.value, str(site_ca_bundle(loaded)))
    return syslog.check_event_reaches_receivers(
        control, target, cause_event=failed_login(loaded),
        receivers={target: loaded.resolve_path(server.evidence_file)}, send_control={target: sent},
        within_s=server.delivery_wait_s)


# bindings -----------------------------------------------------------------------------------------------
# Every platform step talks to the Management API only, so each may retry the API's transient faults.
STEPS = {name: EnsureStep(name, ensure, transient_errors=_TRANSIENT) for name, ensure in (
    ("global-settings", ensure_global_settings),
    ("account-roles", ensure_roles),
    ("locations", ensure_locations),
    ("dns-servers", ensure_dns),
    ("ntp-servers", ensure_ntp),
    ("syslog-servers", ensure_syslog),
    ("snmp", ensure_snmp),
    ("ipv6", ensure_ipv6),
)}
READBACK: Proof[PlatformProbe] = Proof(readback_platform, session=API)  # one session reads every setting back


def _bind(control: str, fix: str | None, *proofs: Proof[PlatformProbe]) -> Binding[PlatformProbe]:
    return Binding(BY_ID[control], STEPS[fix] if fix else None, proofs)


def _site_arg(ctx: PlatformProbe, t: Target) -> Call:
    return call(ctx.loaded, t.subject)


BINDINGS: tuple[Binding[PlatformProbe], ...] = checked(Stage.PLATFORM, tuple(STEPS.values()), (
    *(_bind(f"platform.global.{cid}", "global-settings", READBACK) for cid, _row, _field, _want in GLOBAL_SETTINGS),
    *(_bind(f"platform.global.{cid}", None, READBACK) for cid, _row, _field, _want in PORT_RANGES),
    *(_bind(desired.role_removal_control(role, perm), "account-roles", READBACK)
      for role in desired.ROLES_TRIMMED for perm in desired.removed_permissions()),
    _bind("platform.role.auditor", "account-roles", READBACK),
    _bind("platform.dns.servers", "dns-servers", READBACK),
    _bind("platform.dns.answers", None, Proof(dns.check_dns_answers, lambda ctx, t: call(
        Endpoint(t.name, DNS_PORT), expected={node.fqdn: str(node.address) for node in ctx.loaded.site.nodes()}))),
    _bind("platform.ntp.servers", "ntp-servers", READBACK),
    _bind("platform.ntp.authenticated", "ntp-servers", Proof(check_ntp_server, _site_arg)),
    _bind("platform.syslog.servers", "syslog-servers", READBACK),
    _bind("platform.syslog.delivery", None, Proof(check_syslog_delivery, _site_arg)),
    _bind("platform.snmp.v3", "snmp", READBACK, Proof(snmp.check_v3_get, _snmp_v3, session=SNMP)),
    _bind("platform.snmp.v2c-refused", "snmp",
          Proof(snmp.check_community_refused, _community(lambda _ctx: "public"), session=SNMP, waits=True),
          Proof(snmp.check_community_refused, _community(lambda ctx: ctx.secret(ctx.loaded.site.snmp.community)),
                session=SNMP, waits=True)),
    _bind("platform.snmp.wrong-credentials", None, Proof(snmp.check_wrong_auth_rejected, _wrong_auth, session=SNMP)),
    *(_bind(c.id, "locations", READBACK) for c in controls_for([Stage.PLATFORM]) if c.target is TargetKind.LOCATION),
    _bind("platform.ipv6", "ipv6", READBACK),
))


def plan(loaded: LoadedSite) -> list[Planned[PlatformProbe]]:
    """Every platform control on every target of its kind."""
    return planned(BINDINGS, resolver(loaded.site))


def verify(loaded: LoadedSite) -> list[Result]:
    """Read-back (one API session), SNMP (one engine) and each behavioural probe, concurrently."""
    ctx = PlatformProbe(loaded)
    runners: dict[str, SessionRunner[PlatformProbe]] = {
        API: lambda jobs: from_batch(jobs, readback_platform(loaded), "the API read-back"),
        SNMP: lambda jobs: asyncio.run(_snmp_session(ctx, jobs)),
        "": partial(each_at_once, ctx),
    }
    return run_sessions(plan(loaded), runners, combine)


SPEC = StageSpec(stage=Stage.PLATFORM, steps=tuple(STEPS.values()), verify=verify)
