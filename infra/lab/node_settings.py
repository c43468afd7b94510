"""Pure translation from the Management Node's configuration (twin state) to each node agent's settings.

A real node pulls its configuration from the Management Node and applies it; here the node agent
reads :meth:`TwinState.node_config` and :meth:`TwinState.security_settings` and these functions say
what that configuration means for its SNMP agent, SIP listeners and closed-port policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, ValidationError

from securemode.infra.lab.ns_firewall import FirewallSettings, node_ports
from securemode.infra.nodes import SipListenerSettings, SnmpAgentSettings, SnmpMode, TlsPosture
from securemode.infra.twin.state.settings import SecuritySettings

SNMP_FIELDS = (
    "snmp_mode",
    "snmp_community",
    "snmp_username",
    "snmp_authentication_password",
    "snmp_privacy_password",
    "snmp_system_contact",
    "snmp_system_location",
)


@dataclass(frozen=True)
class AgentSettings:
    """Everything one node agent applies; equal settings mean nothing to do."""

    snmp: SnmpAgentSettings
    sip: SipListenerSettings
    https: TlsPosture  # a conferencing node's web server (the manager's is the twin itself)
    snmp_problem: str | None = None


def snmp_settings(node: Mapping[str, Any]) -> tuple[SnmpAgentSettings, str | None]:
    """The node's ``snmp_*`` fields as agent settings; invalid ones leave SNMP off and say why."""
    values = {k: node[k] for k in SNMP_FIELDS if node.get(k) is not None}
    try:
        return SnmpAgentSettings(**values), None
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return SnmpAgentSettings(snmp_mode=SnmpMode.DISABLED), f"SNMP left off: invalid {', '.join(fields)}"


def tls_posture(identity: tuple[str, str], security: SecuritySettings) -> TlsPosture:
    cert_pem, key_pem = identity
    return TlsPosture(
        certificate_pem=cert_pem,
        private_key_pem=SecretStr(key_pem),
        enable_tls10=security.enable_tls10,
        enable_anon_dh=security.enable_anon_dh,
        fips_mode=security.fips_mode,
    )


def sip_settings(identity: tuple[str, str], security: SecuritySettings) -> SipListenerSettings:
    """SIP ports from the security wizard, TLS with the node's certificate and the wizard's posture."""
    return SipListenerSettings(
        sip_udp_port=security.sip_udp_port,
        sip_tcp_port=security.sip_tcp_port,
        sip_tls_port=security.sip_tls_port,
        tls=tls_posture(identity, security),
    )


def agent_settings(node: Mapping[str, Any], security: SecuritySettings, identity: tuple[str, str]) -> AgentSettings:
    snmp, problem = snmp_settings(node)
    return AgentSettings(snmp=snmp, sip=sip_settings(identity, security), https=tls_posture(identity, security),
                         snmp_problem=problem)


@dataclass(frozen=True)
class NamespaceNode:
    """A node as the namespace's firewall sees it: its address there, and whether it is the manager."""

    name: str
    address: str
    manager: bool


def namespace_firewall(
    security: SecuritySettings,
    nodes: Sequence[NamespaceNode],
    configs: Mapping[str, Mapping[str, Any] | None],
    https_port: int,
    snmp_port: int,
    ssh_port: int | None,
) -> FirewallSettings:
    """Which ports stay open on each node's namespace address, and drop-or-reject for the rest.

    ``ssh_port`` is the console's (None: no console); it is open on the manager until the security
    wizard's "disable system administrator account" took effect. SNMP is open where the node's
    effective SNMP mode is not DISABLED; ``configs`` holds each node's configuration (None: unknown yet).
    """
    sip = {"udp": security.sip_udp_port, "tcp": security.sip_tcp_port, "tls": security.sip_tls_port}
    console = None if security.disable_admin_account else ssh_port
    open_ports = []
    for node in nodes:
        config = configs.get(node.name)
        snmp_on = config is not None and snmp_settings(config)[0].snmp_mode is not SnmpMode.DISABLED
        open_ports.append(node_ports(node.address, https=https_port, sip=sip,
                                     ssh=console if node.manager else None, snmp=snmp_port if snmp_on else None))
    return FirewallSettings(security.drop_closed_ports, tuple(open_ports))
