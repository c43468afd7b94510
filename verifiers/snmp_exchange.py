"""One SNMP GET exchange on a client engine, addressed by transport address instead of a target table entry.

pysnmp's high-level ``get_cmd`` writes every new (credentials, address) pair into the engine's
SNMP-TARGET-MIB through its MIB instrumentation before it sends anything. With 21 nodes and five
probes each that was about a sixth of a whole ``reverify``'s CPU, on the thread every other stage
shares. This module configures only what the engine's message processing needs (the credentials once
per engine, one UDP transport) and hands each request to the engine's dispatcher with its address,
retrying exactly as pysnmp's command generator does: an engine discovery or time-window report is
re-sent (up to ``DISCOVERY_RETRIES`` times), any other failure up to ``retries`` times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.hlapi.v3arch.asyncio import CommunityData, UdpTransportTarget, UsmUserData
from pysnmp.proto import errind
from pysnmp.proto.api import v2c
from pysnmp.proto.error import StatusInformation
from pysnmp.proto.proxy import rfc2576

DISCOVERY_RETRIES = 4  # as pysnmp's command generator
SECURITY_LEVELS = {"noAuthNoPriv": 1, "authNoPriv": 2, "authPriv": 3}  # SNMP-FRAMEWORK-MIB SnmpSecurityLevel
_CONFIGURED = "securemode_snmp_exchange"  # the engine's user context: what is configured on it


@dataclass
class Exchange:
    """The end of one GET: an error indication, or the response PDU's status and variable bindings."""

    error_indication: errind.ErrorIndication | None
    error_status: Any = None
    var_binds: list[tuple[Any, Any]] | None = None


def _configured(engine: SnmpEngine) -> dict[Any, Any]:
    found: dict[Any, Any] | None = engine.get_user_context(_CONFIGURED)
    if found is None:
        found = {}
        engine.set_user_context(**{_CONFIGURED: found})
    return found


def _configure_credentials(engine: SnmpEngine, auth: CommunityData | UsmUserData) -> None:
    """Put the credentials in the engine's tables once (a user whose keys changed is replaced)."""
    known = _configured(engine)
    if isinstance(auth, CommunityData):
        if ("community", auth.communityIndex) not in known:
            config.add_v1_system(engine, auth.communityIndex, auth.communityName, auth.contextEngineId,
                                 auth.context_name, auth.tag, auth.securityName)
            known[("community", auth.communityIndex)] = True
        return
    key = ("user", auth.userName, auth.securityEngineId)
    keys = (auth.authentication_protocol, auth.authentication_key, auth.privacy_protocol, auth.privacy_key)
    if known.get(key) == keys:
        return
    if key in known:
        config.delete_v3_user(engine, auth.userName, auth.securityEngineId)
    config.add_v3_user(engine, auth.userName, auth.authentication_protocol, auth.authentication_key,
                       auth.privacy_protocol, auth.privacy_key, securityEngineId=auth.securityEngineId,
                       securityName=auth.securityName, authKeyType=auth.authKeyType, privKeyType=auth.privKeyType)
    known[key] = keys


def _configure_transport(engine: SnmpEngine, target: UdpTransportTarget) -> None:
    known = _configured(engine)
    if ("transport", target.TRANSPORT_DOMAIN) in known or config.get_transport(engine, target.TRANSPORT_DOMAIN):
        return
    config.add_transport(engine, target.TRANSPORT_DOMAIN, target.open_client_mode())
    known[("transport", target.TRANSPORT_DOMAIN)] = True


async def get(engine: SnmpEngine, auth: CommunityData | UsmUserData, target: UdpTransportTarget,
              oids: list[str]) -> Exchange:
    """GET ``oids`` from ``target`` with ``auth`` (its timeout and retries); never raises a protocol outcome."""
    _configure_credentials(engine, auth)
    _configure_transport(engine, target)
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.null) for oid in oids])
    retries = discoveries = 0
    while True:
        status, response = await _send(engine, auth, target, pdu)
        if status is None:
            return _answer(pdu, response, auth.message_processing_model)
        indication = status["errorIndication"]
        if indication in (errind.notInTimeWindow, errind.unknownEngineID):
            discoveries, retries = discoveries + 1, 0
        else:
            discoveries, retries = 0, retries + 1
        if retries > target.retries or discoveries > DISCOVERY_RETRIES:
            return Exchange(indication)


def _answer(request: Any, response: Any, mp_model: int) -> Exchange:
    if mp_model == 0:
        response = rfc2576.v1_to_v2(response, request)
    if v2c.apiPDU.get_request_id(response) != v2c.apiPDU.get_request_id(request):
        return Exchange(errind.ErrorIndication("the response's request-id is not the request's"))
    status = v2c.apiPDU.get_error_status(response)
    return Exchange(None, status if status else None, list(v2c.apiPDU.get_varbinds(response)))


async def _send(engine: SnmpEngine, auth: CommunityData | UsmUserData, target: UdpTransportTarget,
                pdu: Any) -> tuple[Any, Any]:
    """One request and its response PDU, or the status information of its failure (a timeout too)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[Any, Any]] = loop.create_future()

    def receive(_engine: SnmpEngine, mp_model: int, _sec_model: int, _sec_name: Any, _sec_level: Any,
                _context_engine_id: Any, _context_name: Any, _pdu_version: int, response: Any,
                status: Any, _handle: int, _ctx: Any) -> None:
        if not done.done():
            done.set_result((status, None) if status else (None, response))

    mp_model = auth.message_processing_model
    resolution = engine.transport_dispatcher.get_timer_resolution()
    (admin_string,) = engine.get_mib_builder().import_symbols("SNMP-FRAMEWORK-MIB", "SnmpAdminString")
    try:
        engine.message_dispatcher.send_pdu(
            engine, target.TRANSPORT_DOMAIN, target.transport_address, mp_model, auth.security_model,
            admin_string(auth.securityName), SECURITY_LEVELS[auth.security_level], None, admin_string(b""),
            0 if mp_model == 0 else 1,
            rfc2576.v2_to_v1(pdu) if mp_model == 0 else pdu, True, float(target.timeout) / resolution, receive,
            None)
    except StatusInformation as failed:
        return failed, None
    engine.transport_dispatcher.job_started(id(done))
    try:
        return await done
    finally:
        engine.transport_dispatcher.job_finished(id(done))
