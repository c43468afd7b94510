"""The node's console-side settings: securitywizard answers and installation-wizard answers.

The real node keeps these outside the REST API (security.json and the bootstrap config), so the twin
keeps them in the state store behind a Python interface only; the console twin (part 2) writes them.
Defaults are the ones the Secure Mode guide shows in brackets in its securitywizard table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SecuritySettings:
    """securitywizard answers; a web-session limit of 0 means unlimited, as in the guide."""

    fips_mode: bool = False
    disable_admin_account: bool = False
    accept_icmpv6_redirects: bool = False
    drop_closed_ports: bool = True
    accept_multicast_icmpv6_echo: bool = True
    ipv6_dad: bool = True
    sip_udp_port: int = 5060
    sip_tcp_port: int = 5060
    sip_tls_port: int = 5061
    max_web_sessions: int = 0
    max_web_sessions_per_user: int = 0
    validate_host_headers: bool = False
    enable_tls10: bool = True
    enable_anon_dh: bool = True

    def __post_init__(self) -> None:
        for name in ("sip_udp_port", "sip_tcp_port", "sip_tls_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                raise ValueError(f"{name} must be 1-65535")
        for name in ("max_web_sessions", "max_web_sessions_per_user"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (unlimited) or more")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecuritySettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def updated(self, **changes: Any) -> SecuritySettings:
        return replace(self, **changes)


@dataclass(frozen=True)
class InstallWizardAnswers:
    """installation-wizard answers; the web password is kept only as a Django pbkdf2 hash."""

    hostname: str = "mgr"
    domain: str = "example.test"
    address: str = "127.0.0.1"
    netmask: str = "255.0.0.0"
    gateway: str = "127.0.0.1"
    dns_servers: tuple[str, ...] = ()
    ntp_servers: tuple[str, ...] = ()
    web_admin_username: str = "admin"
    web_admin_password_hash: str = ""
    incident_reporting: bool = False
    contact_email_address: str = ""
    send_statistics: bool = False
    completed: bool = False

    def __repr__(self) -> str:  # never print the hash
        return f"InstallWizardAnswers(hostname={self.hostname!r}, address={self.address!r}, ...)"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dns_servers"] = list(self.dns_servers)
        data["ntp_servers"] = list(self.ntp_servers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InstallWizardAnswers:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        for key in ("dns_servers", "ntp_servers"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)

    def updated(self, **changes: Any) -> InstallWizardAnswers:
        return replace(self, **changes)
