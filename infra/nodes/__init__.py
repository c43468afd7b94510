"""Network-side agents of the Pexip twin nodes: SNMP, SIP (TCP/TLS/UDP), TLS posture, closed ports.

Each agent is an embeddable object with ``start()``, ``stop()`` and ``reconfigure(settings)``; its
settings model mirrors the Pexip fields (management_vm / worker_vm SNMP fields, security-wizard
answers) so the twin's state can drive it directly.
"""

from securemode.infra.nodes.closed_ports import ClosedPortPolicy, ClosedPortSettings
from securemode.infra.nodes.sip_listener import SipListener, SipListenerSettings
from securemode.infra.nodes.snmp_agent import SnmpAgent, SnmpAgentSettings, SnmpMode
from securemode.infra.nodes.tls_posture import TlsPosture, TlsPostureError, server_context

__all__ = [
    "ClosedPortPolicy",
    "ClosedPortSettings",
    "SipListener",
    "SipListenerSettings",
    "SnmpAgent",
    "SnmpAgentSettings",
    "SnmpMode",
    "TlsPosture",
    "TlsPostureError",
    "server_context",
]
