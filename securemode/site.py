"""The site file: everything about one deployment, as a validated pydantic model.

Structure is checked by the models below (types, ranges, enums, unknown keys); the rules that
span fields (VLANs against the reserved list, duplicate names, the IOPS budget, secrets that must
resolve) are checked by :mod:`securemode.site_rules`. :func:`securemode.site_loader.load_site`
runs both and turns every problem into one message that names the field and the fix.

Defaults are the guide's values, so a minimal site file asks for exactly what the guide says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from securemode.secrets import SECRET_REF_PATTERN

SecretRef = Annotated[
    str,
    StringConstraints(pattern=SECRET_REF_PATTERN),
    Field(description="A secret reference: env:NAME, file:PATH or prefect-secret:NAME — never the value."),
]
Dscp = Annotated[int, Field(ge=0, le=63, description="DSCP value, 0–63.")]
Mtu = Annotated[int, Field(ge=512, le=1500, description="MTU in bytes, 512–1500.")]
Port = Annotated[int, Field(ge=1, le=65535)]
Hostname = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"),
    Field(description="Host name without the domain (letters, digits, hyphens; at most 63)."),
]
Domain = Annotated[
    str,
    StringConstraints(pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
                      max_length=192),
]
Fqdn = Domain
IPv4 = ipaddress.IPv4Address
IPAny = ipaddress.IPv4Address | ipaddress.IPv6Address

Sha256Fingerprint = Annotated[
    str, StringConstraints(pattern=r"^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$")
]

RESERVED_GUEST_TAGGING_VLAN = 4095
WELL_KNOWN_COMMUNITIES = frozenset({"public", "private"})
"""SNMP communities everyone knows: no credential, so shown as they are (a site's own community never is)."""


class Strict(BaseModel):
    """Base for every site model: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _vlan_field(description: str) -> int:
    return Field(default=0, ge=0, le=4095, description=description)


class Trust(Strict):
    """How the engine verifies a TLS peer: a CA bundle, or a pinned certificate fingerprint."""

    ca_file: str | None = Field(default=None, description="PEM file of CAs to trust.")
    fingerprint_sha256: Sha256Fingerprint | None = Field(
        default=None, description="SHA-256 of the peer certificate (hex, colons optional).")

    @model_validator(mode="after")
    def _one_way(self) -> Trust:
        if (self.ca_file is None) == (self.fingerprint_sha256 is None):
            raise ValueError("give exactly one of ca_file or fingerprint_sha256")
        return self


class NetworkSpec(Strict):
    """A port group and the physical NICs behind its vSwitch."""

    port_group: str = Field(min_length=1)
    vswitch: str = Field(min_length=1)
    pnics: list[str] = Field(min_length=1, description="Physical NICs (vmnicN) behind the vSwitch.")
    vlan: int = _vlan_field("VLAN id 0–4094; 4095 (virtual guest tagging) is never allowed.")


class Networks(Strict):
    management: NetworkSpec
    vm: NetworkSpec


class VSphere(Strict):
    """The ESXi host the deployment runs on."""

    host: str = Field(min_length=1)
    port: Port = 443
    username: str = Field(min_length=1)
    password: SecretRef
    trust: Trust
    datacenter: str = "ha-datacenter"
    esxi_host: str | None = Field(default=None, description="Host name in the inventory; default: the only host.")
    datastore: str = Field(min_length=1)
    networks: Networks
    reserved_vlans: list[Annotated[int, Field(ge=0, le=4095)]] = Field(
        default_factory=list, description="VLAN ids reserved at this site; no port group may use them."
    )
    iops_budget: int = Field(gt=0, description="Datastore IOPS capacity; the sum of all VM disk IOPS limits must fit.")
    max_concurrent_deploys: int = Field(
        default=4, ge=1, le=32, description="How many Conferencing Nodes the nodes stage deploys at once (OVA "
        "uploads, then first boots until DEPLOYED/SYNCED); 1 deploys them one after the other.")
    syslog_host: str | None = Field(default=None, description="Remote syslog for the ESXi host, e.g. udp://10.0.0.5:514.")
    login_banner: str = Field(default="", description="ESXi DCUI/SSH banner text (STIG).")


class VmSizing(Strict):
    """What a node's VM is given; the `vms` stage reserves all of it (guide: Reserving VM resources)."""

    cpus: int = Field(default=4, ge=1, le=128)
    memory_mb: int = Field(default=8192, ge=2048, le=1048576)
    disk_iops_limit: int = Field(default=1000, gt=0, description="Per-disk IOPS limit (guide: Limit - IOPs).")


class NodeCommon(Strict):
    name: str = Field(min_length=1, max_length=32)
    hostname: Hostname
    domain: Domain
    address: IPv4
    netmask: IPv4 = ipaddress.IPv4Address("255.255.255.0")
    gateway: IPv4 | None = None
    vlan: int = _vlan_field("VLAN id of the node's VM network, 0–4094; never 4095.")
    ipv6_address: ipaddress.IPv6Interface | None = None
    ipv6_gateway: ipaddress.IPv6Address | None = None
    vm: VmSizing = Field(default_factory=VmSizing)

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}"


class ManagementNode(NodeCommon):
    ova: str | None = Field(default=None, description="Path to the Management Node OVA.")
    https_fingerprint_sha256: Sha256Fingerprint | None = Field(
        default=None, description="SHA-256 of the fresh node's self-signed HTTPS certificate (read on its console); "
        "pinned until the PKI stage installs a certificate from the site CA.")
    admin_username: str = "admin"
    admin_password: SecretRef = Field(description="Web/console admin password set by the installation wizard.")
    console_reopen_wait_s: float = Field(
        default=20.0, ge=0, le=900,
        description="After a security wizard that disabled the admin account, how long to wait for the console "
        "(SSH) to reopen before the node's HTTPS answering is taken as the sign its reboot is over (such a node "
        "may drop SSH for good).")


class ConferencingNode(NodeCommon):
    location: str = Field(min_length=1)
    sip_tls_fqdn: Fqdn | None = Field(default=None, description="Pexip `alternative_fqdn`; must be in the certificate.")
    node_password: SecretRef | None = Field(
        default=None, description="The node's console password (required by the API)."
    )


# The guide's recommended values: the site's defaults, and what site_rules warns about when a site differs.
GUIDE_MEDIA_DSCP = 51
GUIDE_SIGNALLING_DSCP = 40
GUIDE_MTU = 1400
GUIDE_MANAGEMENT_DSCP = 16
GUIDE_SESSION_TIMEOUT_MINUTES = 10


class Location(Strict):
    name: str = Field(min_length=1, max_length=250)
    media_dscp: Dscp = GUIDE_MEDIA_DSCP
    signalling_dscp: Dscp = GUIDE_SIGNALLING_DSCP
    mtu: Mtu = GUIDE_MTU


class NtpAlgorithm(StrEnum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"


class NtpServer(Strict):
    address: str = Field(min_length=1, max_length=255)
    port: Port = 123
    key_id: int | None = Field(default=None, ge=1, le=65535)
    algorithm: NtpAlgorithm = NtpAlgorithm.SHA1
    key: SecretRef | None = None


class SyslogTransport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


class SyslogServer(Strict):
    address: str = Field(min_length=1, max_length=255)
    port: Port = 514
    transport: SyslogTransport = SyslogTransport.UDP
    evidence_file: str | None = Field(
        default=None, description="Where the verifier can read what this receiver got (lab or log shipper)."
    )
    delivery_wait_s: float = Field(
        default=5.0, gt=0, le=300,
        description="How long the delivery check waits for its event, and then for a control message sent "
        "straight to this receiver, to show up in the evidence.")


class Snmp(Strict):
    username: str = Field(min_length=1, max_length=100)
    auth_password: SecretRef
    priv_password: SecretRef
    community: SecretRef = Field(description="The v1/v2c community (a credential): a secret reference whose value "
                                 "is 1–16 characters and not 'public'.")
    system_contact: str = Field(default="admin@example.test", max_length=70)
    system_location: str = Field(default="Virtual machine", max_length=70)
    port: Port = 161


class Role(StrEnum):
    READ_ONLY = "Read-only"
    READ_WRITE = "Read-write"
    AUDITOR = "Auditor"


class Ldap(Strict):
    server: str = Field(min_length=1, max_length=255, description="LDAP server host name (Pexip `ldap_server`).")
    port: Port = 636
    tls: Literal["ldaps", "starttls"] = "ldaps"
    base_dn: str = Field(min_length=1, max_length=255)
    bind_dn: str = Field(min_length=1, max_length=255)
    bind_password: SecretRef
    ca_file: str = Field(min_length=1, description="CA that signed the LDAP server's certificate.")
    user_search_dn: str = ""
    group_roles: dict[str, list[Role]] = Field(
        min_length=1, description="LDAP group DN → Pexip account roles; every role must be mapped."
    )


class ClientCertificateMode(StrEnum):
    CN = "CN"
    UPN = "UPN"


class Administrator(Strict):
    """An LDAP user who administers the platform: the engine issues their client certificate and proves,
    before each switch of the cut-over, that they can log in with the role the site gives them."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                          description="LDAP username (uid / sAMAccountName): the CN of the client certificate.")
    upn: str | None = Field(default=None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$",
                            description="userPrincipalName: the identity of the certificate when "
                            "client_certificate is UPN (required then).")
    role: Role = Field(description="The account role the user's LDAP group maps to; the proofs expect exactly it.")
    password: SecretRef | None = Field(
        default=None, description="The user's LDAP password (a secret reference), for the LDAP login proofs made "
        "before client certificates are required; without it the user is proven by certificate only.")


class CallProtocols(Strict):
    """Guide: review the call protocols and disable those you do not need."""

    sip: bool = True
    h323: bool = False
    webrtc: bool = True
    rtmp: bool = False


class PortRange(Strict):
    start: int = Field(ge=10000, le=49999)
    end: int = Field(ge=10000, le=49999)

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.end < self.start:
            raise ValueError("end must not be below start")
        return self


class GlobalSettings(Strict):
    """Guide: Global settings table."""

    call_protocols: CallProtocols = Field(default_factory=CallProtocols)
    management_dscp: Dscp = GUIDE_MANAGEMENT_DSCP
    signalling_ports: PortRange = Field(default_factory=lambda: PortRange(start=33000, end=39999))
    media_ports: PortRange = Field(default_factory=lambda: PortRange(start=40000, end=49999))
    ocsp_responder_url: str = Field(min_length=1, max_length=255, description="OCSP responder (OCSP state Override).")
    login_banner: str = Field(min_length=1, max_length=4096, description="Login banner text for the admin interface.")
    session_timeout_minutes: int = Field(
        default=GUIDE_SESSION_TIMEOUT_MINUTES, ge=5, le=1440, description="Management web session timeout, 5–1440."
    )


class SecurityWizard(Strict):
    """The security-wizard answers the guide lets a site customise; the rest are fixed by the guide."""

    sip_udp_port: Port = 5060
    sip_tcp_port: Port = 5060
    sip_tls_port: Port = 5061
    max_web_sessions: int = Field(default=100, ge=1, le=10000)
    max_web_sessions_per_user: int = Field(default=10, ge=1, le=10000)


class KeyType(StrEnum):
    RSA2048 = "RSA2048"
    RSA4096 = "RSA4096"
    ECDSAP256 = "ECDSAP256"


class Pki(Strict):
    ca_adapter: Literal["lab", "manual"] = "manual"
    ca_dir: str | None = Field(default=None, description="The lab CA's directory (ca_adapter: lab).")
    key_type: KeyType = KeyType.RSA2048
    csr_on_node: bool = Field(default=True, description="False: make the key and CSR locally (CN is an IP address).")
    additional_sans: list[str] = Field(default_factory=list)
    trusted_ca_files: list[str] = Field(min_length=1, description="Root and intermediate CA PEM files to upload.")
    expiry_warning_days: int = Field(default=30, ge=0)


class ContingencyNode(Strict):
    """A fallback node's own identity; everything else it takes from the primary node it mirrors."""

    name: str = Field(min_length=1, max_length=32)
    hostname: Hostname
    address: IPv4
    ipv6_address: ipaddress.IPv6Interface | None = Field(
        default=None, description="The fallback node's IPv6 address, if its primary node has one.")
    https_fingerprint_sha256: Sha256Fingerprint | None = Field(
        default=None, description="Management Node only: SHA-256 of the fresh fallback node's self-signed HTTPS "
        "certificate (read on its console), pinned until the PKI stage installs one from the site CA.")


class Contingency(Strict):
    """The powered-off fallback deployment (guide: Contingency deployment)."""

    management_node: ContingencyNode
    conferencing_nodes: list[ContingencyNode] = Field(
        default_factory=list, description="One fallback node per primary conferencing node, in the same order.")
    local_admin_password: SecretRef = Field(description="The fallback's local admin password (it keeps local "
                                            "authentication so it works while LDAP is down).")
    esxi_host: str | None = Field(default=None, description="The ESXi host for the fallback; default: the primary's.")
    refresh_cron: str = Field(default="0 3 * * 0", description="Schedule of the contingency-refresh deployment "
                              "(cron): power on, re-apply the primary's configuration, prove parity, power off.")
    parity_max_age_hours: int = Field(default=192, ge=1, le=8784, description="How old the last proven parity may "
                                      "be before `contingency.parity` fails (default 8 days, a weekly refresh).")
    shutdown_wait_s: int = Field(default=120, ge=0, le=3600, description="How long a guest shutdown of a fallback "
                                 "VM may take before the VM is powered off.")


class LdapAdmin(Strict):
    """An LDAP account allowed to set the bind account's password (the site can change it)."""

    dn: str = Field(min_length=1, max_length=255, description="The DN that may write the bind account's userPassword.")
    password: SecretRef


class Rebuild(Strict):
    """How ``securemode rebuild`` treats this site after a compromise."""

    snapshot_for_forensics: bool = Field(default=False, description="Snapshot each quarantined VM (after power "
                                         "off, before the rename) so its disks are kept as they were found.")
    ldap_admin: LdapAdmin | None = Field(default=None, description="Set when the site can change the LDAP bind "
                                         "password: the rebuild rotates it through this account (else it is kept "
                                         "and the report says so).")


class ApprovalPolicy(Strict):
    """Gated steps need an approval: interactively, or pre-approved here by name."""

    mode: Literal["prompt", "preapproved", "deny"] = "prompt"
    preapproved: list[str] = Field(default_factory=list, description="Gated step names approved in advance.")
    approver: str | None = Field(default=None, description="Who approved the preapproved steps.")


class Notifications(Strict):
    """Where `securemode serve` sends a webhook on a failed run, on drift and on a run paused for approval."""

    webhook_url: SecretRef = Field(description="The webhook's URL, as a secret reference (it may carry a token).")


DriftAction = Literal["repair", "notify"]


class DriftResponse(Strict):
    """What the automation on ``securemode.drift.detected`` does, by the severity of each drifted control: ``repair``
    runs the pipeline deployment in run mode; ``notify`` only sends the webhook (when the site names one)."""

    high: DriftAction = "notify"
    medium: DriftAction = "notify"
    low: DriftAction = "notify"

    def for_severities(self, severities: Iterable[str]) -> DriftAction:
        """``repair`` when any of the drifted controls' severities asks for it, else ``notify``."""
        return "repair" if any(getattr(self, s, "notify") == "repair" for s in severities) else "notify"


class Site(Strict):
    """One deployment, as described by the site file."""

    version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=64)
    vsphere: VSphere
    management_node: ManagementNode
    conferencing_nodes: list[ConferencingNode] = Field(default_factory=list)
    locations: list[Location] = Field(min_length=1)
    dns_servers: list[IPAny] = Field(description="At least two DNS servers (guide).")
    ntp_servers: list[NtpServer] = Field(description="At least two NTP servers, each with a key (guide).")
    syslog_servers: list[SyslogServer] = Field(description="At least one remote syslog server (guide).")
    snmp: Snmp
    ldap: Ldap
    client_certificate: ClientCertificateMode = ClientCertificateMode.CN
    administrators: list[Administrator] = Field(
        default_factory=list, description="The LDAP users who get a client certificate; the cut-over needs one "
        "per account role, with a password for its LDAP login proof.")
    global_settings: GlobalSettings
    security_wizard: SecurityWizard = Field(default_factory=SecurityWizard)
    pki: Pki
    contingency: Contingency | None = None
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    rebuild: Rebuild = Field(default_factory=Rebuild)
    notifications: Notifications | None = None
    drift_response: DriftResponse = Field(default_factory=DriftResponse, description="Per severity of a drifted "
                                          "control: repair (run the pipeline) or notify (only the webhook).")
    waivers_file: str | None = None
    evidence_signing_key: SecretRef | None = Field(
        default=None, description="Ed25519 private key (PEM, unencrypted) that signs evidence bundles "
        "(`securemode report bundle`): a secret reference, e.g. file:keys/evidence.pem.")
    allow_error: list[str] = Field(
        default_factory=list, description="Control ids whose ERROR does not stop the pipeline."
    )
    reverify_cron: str = Field(default="0 * * * *", description="Schedule of the reverify deployment (cron).")
    replication_wait_s: int = Field(
        default=120, ge=0, le=3600,
        description="After a stage changed something, how long its verifiers may keep re-checking while the "
        "nodes pull the new configuration (real nodes pull about once a minute).")

    @field_validator("locations")
    @classmethod
    def _unique_location_names(cls, value: list[Location]) -> list[Location]:
        names = [loc.name for loc in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"location names must be unique; repeated: {', '.join(dupes)}")
        return value

    def nodes(self) -> list[NodeCommon]:
        """The management node first, then the conferencing nodes."""
        return [self.management_node, *self.conferencing_nodes]
