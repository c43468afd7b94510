"""Typed payloads of the Management API resources the pki and platform stages use.

Reads ignore fields we do not use (a node of another version may have more). Related objects are
read as either a URI or a nested object — ``management_vm`` and ``system_location`` nest their DNS,
NTP and syslog servers, ``role`` nests its permissions (reference §1.5) — and are normalised here
to URIs (:data:`RelatedUri`) or kept as nested models where the stage needs their fields. Writes
always send URIs. Write-only secrets (NTP keys, SNMP passwords, private keys) are ``SecretStr`` and
revealed only in :meth:`WriteModel.body`, the one place a request body is built.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr


def _as_uri(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("resource_uri")
    return value


RelatedUri = Annotated[str, BeforeValidator(_as_uri)]
"""A related object read as a URI or nested object, kept as its URI."""


class ReadModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    resource_uri: str


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON request body, with secrets revealed (only ever sent, never logged)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return out


# global settings ------------------------------------------------------------------------------------
class GlobalSettings(ReadModel):
    enable_sip: bool
    enable_h323: bool
    enable_webrtc: bool
    enable_rtmp: bool
    enable_chat: bool
    enable_dialout: bool
    enable_application_api: bool
    management_qos: int | None = None
    enable_ssh: bool
    signalling_ports_start: int
    signalling_ports_end: int
    media_ports_start: int
    media_ports_end: int
    ocsp_state: str
    ocsp_responder_url: str = ""
    sip_tls_cert_verify_mode: str
    legacy_api_http: bool | None = None
    logon_banner: str = ""
    management_session_timeout: int


# nodes and locations --------------------------------------------------------------------------------
class NodeSnmp(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    snmp_mode: str = "DISABLED"
    snmp_community: str = "public"
    snmp_username: str = ""
    snmp_system_contact: str = ""
    snmp_system_location: str = ""


class NodeVm(ReadModel, NodeSnmp):
    """A ``management_vm`` or ``worker_vm`` as read."""

    name: str
    hostname: str = ""
    domain: str = ""
    address: str = ""
    alternative_fqdn: str = ""
    ipv6_address: str | None = None
    ipv6_gateway: str | None = None
    tls_certificate: RelatedUri | None = None
    dns_servers: list[RelatedUri] = []
    ntp_servers: list[RelatedUri] = []
    syslog_servers: list[RelatedUri] = []
    system_location: RelatedUri | None = None

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}".strip(".")


class SystemLocation(ReadModel):
    name: str
    mtu: int | None = None
    media_qos: int | None = None
    signalling_qos: int | None = None
    dns_servers: list[RelatedUri] = []
    ntp_servers: list[RelatedUri] = []
    syslog_servers: list[RelatedUri] = []


class SystemLocationCreate(WriteModel):
    name: str
    mtu: int
    media_qos: int
    signalling_qos: int
    dns_servers: list[str]
    ntp_servers: list[str]
    syslog_servers: list[str]


# network services -----------------------------------------------------------------------------------
class DnsServer(ReadModel):
    address: str
    description: str = ""


class DnsServerCreate(WriteModel):
    address: str
    description: str = ""


class NtpServer(ReadModel):
    address: str
    description: str = ""
    key_id: int | None = None  # the key itself is write-only


class NtpServerWrite(WriteModel):
    address: str
    description: str = ""
    key_id: int | None = None
    key: SecretStr | None = None


class SyslogServer(ReadModel):
    address: str
    port: int = 514
    transport: str = "udp"
    description: str = ""
    audit_log: bool = False


class SyslogServerCreate(WriteModel):
    address: str
    port: int
    transport: str
    audit_log: bool = True
    description: str = ""


# roles ------------------------------------------------------------------------------------------------
class Permission(ReadModel):
    name: str
    codename: str = ""


class Role(ReadModel):
    name: str
    permissions: list[Permission] = []

    @property
    def permission_names(self) -> list[str]:
        return sorted(p.name for p in self.permissions)


class RoleWrite(WriteModel):
    name: str
    permissions: list[str]


# certificates -----------------------------------------------------------------------------------------
class TlsCertificate(ReadModel):
    certificate: str
    subject_name: str = ""
    end_date: str | None = None
    nodes: list[str] = []


class TlsCertificateCreate(WriteModel):
    certificate: str
    private_key: SecretStr


class CaCertificate(ReadModel):
    certificate: str
    subject_name: str = ""
    trusted_intermediate: bool = False


class CaCertificateCreate(WriteModel):
    certificate: str
    trusted_intermediate: bool


class SigningRequest(ReadModel):
    subject_name: str
    additional_subject_alt_names: str = ""
    private_key_type: str = ""
    csr: str = ""


class SigningRequestCreate(WriteModel):
    subject_name: str
    additional_subject_alt_names: str
    private_key_type: str
