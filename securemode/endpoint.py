"""Where a service listens and how a probe reaches and trusts it: one small value for every verifier.

A verifier takes the control id, the target name and an :class:`Endpoint` (as sslyze takes a server
location), instead of repeating host, port, SNI name, CA bundle, client certificate and timeout in
each signature. An endpoint holds only references — file paths of the CA bundle and of the client
certificate and key — never a secret value, so it can be logged and put into evidence as it is.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

ClientCert = tuple[str, str]  # (certificate PEM file, key PEM file) for servers that require one


@dataclass(frozen=True)
class Endpoint:
    """One service address as a client sees it.

    ``server_name`` is the name sent as SNI and the name a certificate must hold (default: ``host``
    when it is a DNS name, none for an IP address). ``ca_file`` is the trust for checks that verify
    the chain. ``timeout_s`` of ``None`` means "the verifier's own default" (a port probe waits less
    than an LDAP bind), so one endpoint serves every verifier of a node.
    """

    host: str
    port: int
    server_name: str | None = None
    ca_file: str | None = None
    client_cert: ClientCert | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("an endpoint needs a host")
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port} is not a TCP/UDP port")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError(f"timeout {self.timeout_s}s must be positive")

    def at(self, port: int) -> Endpoint:
        """The same host, name and trust on another port (e.g. the SIP TLS port of a node)."""
        return replace(self, port=port)

    def timeout(self, default: float) -> float:
        """This endpoint's timeout, or the calling verifier's ``default`` when none is set."""
        return self.timeout_s if self.timeout_s is not None else default

    @property
    def sni(self) -> str | None:
        """The SNI to send: ``server_name``, else the host when it is a DNS name."""
        if self.server_name is not None:
            return self.server_name
        return None if is_ip(self.host) else self.host

    def __str__(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{shown}:{self.port}"


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (else a DNS name)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
