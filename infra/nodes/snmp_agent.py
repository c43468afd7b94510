"""The SNMP agent of a twin node (pysnmp), following the node's ``snmp_*`` fields.

``snmp_mode`` (management_vm / worker_vm):

* ``DISABLED``: no socket at all, nothing answers.
* ``STANDARD``: SNMPv2c (and v1) read-only with ``snmp_community``.
* ``AUTHPRIV``: SNMPv3 authPriv, HMAC-SHA1-96 + AES-128 (the guide: "SHA1 authentication and AES
  128-bit encryption") with ``snmp_username`` and the two passwords; community requests get nothing.

The read view is the ``system`` group (1.3.6.1.2.1.1): sysDescr, sysObjectID, sysUpTime (since this
agent configuration started), sysContact, sysName (the node's hostname), sysLocation, sysServices.
GUESS: Pexip's exact sysDescr/sysObjectID strings are not published; sysObjectID is net-snmp's Linux
id because Pexip nodes are Linux appliances.
"""

from __future__ import annotations

import asyncio
import socket
import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context

from securemode.infra.netns import NetNamespace
from securemode.infra.nodes.loop_thread import LoopThread

SYSTEM_SUBTREE = (1, 3, 6, 1, 2, 1, 1)
NET_SNMP_LINUX_OID = (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)
_V3_USER_LEVEL = "authPriv"


class SnmpMode(StrEnum):
    DISABLED = "DISABLED"
    STANDARD = "STANDARD"
    AUTHPRIV = "AUTHPRIV"


class SnmpAgentSettings(BaseModel):
    """The SNMP fields of a Pexip management_vm / worker_vm, as the Management API names them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    snmp_mode: SnmpMode = SnmpMode.DISABLED
    snmp_community: SecretStr = Field(default=SecretStr("public"), max_length=16)
    snmp_username: str = Field(default="", max_length=100)
    snmp_authentication_password: SecretStr = SecretStr("")
    snmp_privacy_password: SecretStr = SecretStr("")
    snmp_system_contact: str = Field(default="admin@domain.com", max_length=70)
    snmp_system_location: str = Field(default="Virtual machine", max_length=70)

    @model_validator(mode="after")
    def _authpriv_needs_credentials(self) -> SnmpAgentSettings:
        if self.snmp_mode is SnmpMode.AUTHPRIV:
            if not self.snmp_username:
                raise ValueError("snmp_username is required when snmp_mode is AUTHPRIV")
            for name in ("snmp_authentication_password", "snmp_privacy_password"):
                if not 8 <= len(getattr(self, name).get_secret_value()) <= 100:
                    raise ValueError(f"{name} must be 8-100 characters when snmp_mode is AUTHPRIV")
        return self


class SnmpAgent:
    """One node's SNMP agent on ``address:port`` (UDP); ``port=0`` picks a free port once and keeps it.

    With ``netns`` the socket is opened inside that namespace (the node then answers on the
    namespace's address).
    """

    def __init__(
        self,
        hostname: str,
        address: str,
        port: int = 161,
        settings: SnmpAgentSettings | None = None,
        sys_descr: str = "Pexip Infinity node (securemode lab twin)",
        netns: NetNamespace | None = None,
    ) -> None:
        self.hostname = hostname
        self.address = address
        self.port = port
        self.sys_descr = sys_descr
        self.settings = settings or SnmpAgentSettings()
        self._netns = netns
        self._loop = LoopThread(f"snmp-{hostname}")
        self._engine: engine.SnmpEngine | None = None

    def __repr__(self) -> str:
        return f"SnmpAgent({self.hostname!r}, {self.address}:{self.port}, mode={self.settings.snmp_mode})"

    @property
    def answering(self) -> bool:
        """Whether a socket is open (False when stopped or DISABLED)."""
        return self._engine is not None

    def start(self) -> None:
        self._loop.start()
        self._loop.call(self._open())

    def stop(self) -> None:
        if self._loop_running():
            self._loop.call(self._close())
        self._loop.stop()

    def reconfigure(self, settings: SnmpAgentSettings) -> None:
        """Apply new settings: the agent restarts its SNMP engine (like snmpd on a config change)."""
        self.settings = settings
        if self._loop_running():
            self._loop.call(self._close())
            self._loop.call(self._open())

    def _loop_running(self) -> bool:
        try:
            self._loop.loop  # noqa: B018 - raises when not started
        except RuntimeError:
            return False
        return True

    async def _open(self) -> None:
        if self.settings.snmp_mode is SnmpMode.DISABLED:
            return
        sock = self._bind()
        self.port = sock.getsockname()[1]
        snmp_engine = engine.SnmpEngine()
        transport_cls = udp6.Udp6AsyncioTransport if sock.family == socket.AF_INET6 else udp.UdpAsyncioTransport
        domain = udp6.DOMAIN_NAME if sock.family == socket.AF_INET6 else udp.DOMAIN_NAME
        transport = transport_cls().open_server_mode(sock=sock)
        config.add_transport(snmp_engine, domain, transport)
        lport = getattr(transport, "_lport", None)
        if lport is not None:
            await lport  # the endpoint is created asynchronously; surface bind errors here
        self._configure_security(snmp_engine)
        self._export_system_group(snmp_engine)
        snmp_context = context.SnmpContext(snmp_engine)
        cmdrsp.GetCommandResponder(snmp_engine, snmp_context)
        cmdrsp.NextCommandResponder(snmp_engine, snmp_context)
        cmdrsp.BulkCommandResponder(snmp_engine, snmp_context)
        self._engine = snmp_engine

    async def _close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
            await asyncio.sleep(0)  # let the transport finish closing

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = (
            self._netns.socket(family, socket.SOCK_DGRAM) if self._netns else socket.socket(family, socket.SOCK_DGRAM)
        )
        try:
            sock.bind((self.address, self.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _configure_security(self, snmp_engine: engine.SnmpEngine) -> None:
        s = self.settings
        if s.snmp_mode is SnmpMode.STANDARD:
            config.add_v1_system(snmp_engine, "node-community", s.snmp_community.get_secret_value())
            for model in (1, 2):  # v1 and v2c, read-only
                config.add_vacm_user(snmp_engine, model, "node-community", "noAuthNoPriv", SYSTEM_SUBTREE)
        elif s.snmp_mode is SnmpMode.AUTHPRIV:
            config.add_v3_user(
                snmp_engine,
                s.snmp_username,
                config.USM_AUTH_HMAC96_SHA,
                s.snmp_authentication_password.get_secret_value(),
                config.USM_PRIV_CFB128_AES,
                s.snmp_privacy_password.get_secret_value(),
            )
            config.add_vacm_user(snmp_engine, 3, s.snmp_username, _V3_USER_LEVEL, SYSTEM_SUBTREE)

    def _export_system_group(self, snmp_engine: engine.SnmpEngine) -> None:
        builder = snmp_engine.get_mib_builder()
        builder.load_modules("__SNMPv2-MIB")
        scalar_instance, time_ticks = builder.import_symbols("SNMPv2-SMI", "MibScalarInstance", "TimeTicks")
        names = ("sysDescr", "sysObjectID", "sysUpTime", "sysContact", "sysName", "sysLocation")
        objs = dict(zip(names, builder.import_symbols("SNMPv2-MIB", *names), strict=True))
        started = time.monotonic()

        class _UpTime(time_ticks):  # type: ignore[misc,valid-type]
            def clone(self, *args: Any, **kwargs: Any) -> Any:
                if not args and "value" not in kwargs:
                    kwargs["value"] = int((time.monotonic() - started) * 100) & 0xFFFFFFFF
                return time_ticks.clone(self, *args, **kwargs)

        values = {
            "sysDescr": objs["sysDescr"].syntax.clone(self.sys_descr),
            "sysObjectID": objs["sysObjectID"].syntax.clone(NET_SNMP_LINUX_OID),
            "sysUpTime": _UpTime(0),
            "sysContact": objs["sysContact"].syntax.clone(self.settings.snmp_system_contact),
            "sysName": objs["sysName"].syntax.clone(self.hostname),
            "sysLocation": objs["sysLocation"].syntax.clone(self.settings.snmp_system_location),
        }
        builder.unexport_symbols("__SNMPv2-MIB", *names)
        builder.export_symbols(
            "__SNMPv2-MIB",
            **{n: scalar_instance(objs[n].name, (0,), v) for n, v in values.items()},
        )
