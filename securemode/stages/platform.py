"""Stage ``platform``: global settings, account roles, DNS/NTP/syslog, SNMPv3, locations, IPv6.

Verify: API read-back of every applied setting on a fresh session, plus behaviour — an SNMPv3 GET with
the site's credentials and no answer to v2c (``public`` or the site's community) or to wrong v3
credentials on every node; an authenticated NTP exchange with each server's key; each DNS server
answering for the nodes' FQDNs; an audit event (a failed API login) reaching each syslog receiver.
Read-back and behaviour of the same control and target are combined into one result.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from functools import partial

from pydantic import SecretStr

from securemode.catalogue import Stage
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.parallel import Probe, run_probes
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import API_PORT
from securemode.pexip.errors import ApiError, TransientApiError
from securemode.pexip.trust import choose_trust, recorded_pin, site_ca_bundle
from securemode.results import Result, probe
from securemode.site import SyslogServer
from securemode.site_loader import LoadedSite
from tasks.platform import (
    ensure_dns,
    ensure_global_settings,
    ensure_ipv6,
    ensure_locations,
    ensure_ntp,
    ensure_roles,
    ensure_snmp,
    ensure_syslog,
)
from verifiers import dns, ntp, snmp, syslog
from verifiers.api import merge_same_target, readback_platform

_TRANSIENT = (TransientApiError,)


# SNMP ---------------------------------------------------------------------------------------------------
async def _snmp_results(loaded: LoadedSite) -> list[Result]:
    site, conf = loaded.site, loaded.site.snmp
    auth = loaded.secret(conf.auth_password).get_secret_value()
    priv = loaded.secret(conf.priv_password).get_secret_value()
    community = loaded.secret(conf.community).get_secret_value()
    probes = []
    async with snmp.shared_engine() as engine:
        for node in site.nodes():
            host = str(node.address)
            probes += [
                snmp.check_v3_get("platform.snmp.v3", node.name, Endpoint(host, conf.port), conf.username, auth,
                                  priv, engine=engine),
                snmp.check_community_refused("platform.snmp.v2c-refused", node.name, Endpoint(host, conf.port),
                                             "public", engine=engine),
                snmp.check_community_refused("platform.snmp.v2c-refused", node.name, Endpoint(host, conf.port),
                                             community, engine=engine),
            ]
        results = await snmp.gather_results(*probes)
    results += await snmp.gather_results(*(
        snmp.check_wrong_auth_rejected("platform.snmp.wrong-credentials", node.name,
                                       Endpoint(str(node.address), conf.port), conf.username, priv)
        for node in site.nodes()))
    return results


# NTP and DNS --------------------------------------------------------------------------------------------
def _snmp_results_sync(loaded: LoadedSite) -> list[Result]:
    return asyncio.run(_snmp_results(loaded))


def _ntp_results(loaded: LoadedSite) -> list[Result]:
    out: list[Result] = []
    for server in loaded.site.ntp_servers:
        if server.key is None or server.key_id is None:
            with probe("platform.ntp.authenticated", server.address) as p:
                p.failed(None, "the site gives this NTP server no key")
            out.append(p.result)
            continue
        key = loaded.secret(server.key).get_secret_value()
        out.append(ntp.check_authenticated_ntp("platform.ntp.authenticated", server.address,
                                               Endpoint(server.address, server.port), key_id=server.key_id, key=key,
                                               algorithm=server.algorithm.value))
    return out


def _dns_results(loaded: LoadedSite) -> list[Result]:
    expected = {node.fqdn: str(node.address) for node in loaded.site.nodes()}
    return [dns.check_dns_answers("platform.dns.answers", str(a), Endpoint(str(a), 53), expected=expected)
            for a in loaded.site.dns_servers]


# syslog -------------------------------------------------------------------------------------------------
def failed_login(loaded: LoadedSite, port: int = API_PORT) -> Callable[[str], None]:
    """Cause an audit event: an API request as a user named ``marker`` with a wrong password."""

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


def _syslog_result(loaded: LoadedSite, server: SyslogServer) -> Result:
    label = f"{server.address}:{server.port}/{server.transport.value}"
    if server.evidence_file is None:
        with probe("platform.syslog.delivery", label) as p:
            p.error("the site gives no evidence_file for this receiver, so what it got cannot be read")
        return p.result
    control = syslog.send_syslog(server.address, server.port, server.transport.value, str(site_ca_bundle(loaded)))
    return syslog.check_event_reaches_receivers(
        "platform.syslog.delivery", label, cause_event=failed_login(loaded),
        receivers={label: loaded.resolve_path(server.evidence_file)}, send_control={label: control})


def verify(loaded: LoadedSite) -> list[Result]:
    """Read-back and behavioural probes, each group concurrently with the others (securemode.parallel)."""
    probes: list[Probe] = [
        partial(readback_platform, loaded),
        partial(_snmp_results_sync, loaded),
        partial(_ntp_results, loaded),
        partial(_dns_results, loaded),
        *(partial(_syslog_result, loaded, s) for s in loaded.site.syslog_servers),
    ]
    return merge_same_target(run_probes(probes))


SPEC = StageSpec(
    stage=Stage.PLATFORM,
    steps=(
        EnsureStep("global-settings", ensure_global_settings, transient_errors=_TRANSIENT),
        EnsureStep("account-roles", ensure_roles, transient_errors=_TRANSIENT),
        EnsureStep("locations", ensure_locations, transient_errors=_TRANSIENT),
        EnsureStep("dns-servers", ensure_dns, transient_errors=_TRANSIENT),
        EnsureStep("ntp-servers", ensure_ntp, transient_errors=_TRANSIENT),
        EnsureStep("syslog-servers", ensure_syslog, transient_errors=_TRANSIENT),
        EnsureStep("snmp", ensure_snmp, transient_errors=_TRANSIENT),
        EnsureStep("ipv6", ensure_ipv6, transient_errors=_TRANSIENT),
    ),
    verify=verify,
)
