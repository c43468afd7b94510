"""Two Management Node twins configured as a secure-mode primary and its contingency fallback, through the
engine's Management API client: the same configuration, except the guide's exceptions and each node's
identity. The secrets are the lab's kind of secret files (0600, random values) so a test can prove none
of them reaches an export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from securemode.infra.lab.secret_files import SecretFiles, new_password
from securemode.infra.twin import TwinConfig, TwinManagementNode
from securemode.pexip.client import ManagementApi, RetryPolicy, config_uri
from securemode.pexip.trust import PinnedFingerprint, normalise_fingerprint

DOMAIN = "example.test"
FAST = TwinConfig(self_signed_key_bits=2048, password_hash_iterations=1000)
# the primary requires client certificates; this twin knob keeps Basic working for the test's admin (the
# engine logs in with its own client certificate on a real primary)
PRIMARY_CONFIG = TwinConfig(
    self_signed_key_bits=2048, password_hash_iterations=1000, client_cert_api_basic_fallback=True
)
SECRET_NAMES = (
    "admin-password",
    "contingency-admin-password",
    "snmp-auth-password",
    "snmp-priv-password",
    "snmp-community",
    "node-password-conf01",
    "ldap-bind-password",
    "ntp-key-1",
    "ntp-key-2",
    "legacy-api-password",
    "trap-community",
)


@dataclass(frozen=True)
class Side:
    """One deployment's identities and exceptions."""

    label: str
    address: str  # the Management Node (its twin listens here)
    mgr_hostname: str
    node_name: str
    node_hostname: str
    node_address: str
    client_certificate: str
    licensed: bool
    admin_secret: str

    @property
    def fqdn(self) -> str:
        return f"{self.mgr_hostname}.{DOMAIN}"


PRIMARY = Side("primary", "127.0.0.1", "pexmgr", "conf01", "conf01", "127.0.0.11", "CN", True, "admin-password")
FALLBACK = Side(
    "fallback",
    "127.0.0.2",
    "pexmgr-c",
    "conf01-c",
    "conf01-c",
    "127.0.0.211",
    "NO",
    False,
    "contingency-admin-password",
)
IDENTITIES = {
    "pexmgr": "pexmgr-c",
    "pexmgr.example.test": "pexmgr-c.example.test",
    "127.0.0.1": "127.0.0.2",
    "conf01": "conf01-c",
    "conf01.example.test": "conf01-c.example.test",
    "127.0.0.11": "127.0.0.211",
}


@dataclass
class Ca:
    """A small CA (EC keys, fast) that issues both sides' node certificates."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Parity Test CA")])
        now = dt.datetime.now(dt.UTC)
        self.name = name
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, fqdn: str) -> tuple[str, str]:
        """A server+client certificate for ``fqdn`` and its key, as PEM."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(fqdn)]), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def write_secrets(directory: Path) -> SecretFiles:
    secrets = SecretFiles(directory)
    for name in SECRET_NAMES:
        secrets.write(name, new_password(16))
    return secrets


def start_twin(directory: Path, side: Side, secrets: SecretFiles) -> TwinManagementNode:
    return TwinManagementNode(
        directory,
        side.address,
        0,
        config=PRIMARY_CONFIG if side is PRIMARY else FAST,
        admin_password=secrets.read(side.admin_secret),
        hostname=side.mgr_hostname,
        domain=DOMAIN,
        dns_servers=("127.0.53.1",),
        ntp_servers=("127.0.123.1",),
    ).start()


def client(twin: TwinManagementNode, side: Side, secrets: SecretFiles, *, attempts: int = 4) -> ManagementApi:
    """The engine's client, pinned to what the twin serves, logged in as the local admin."""
    pin = PinnedFingerprint(normalise_fingerprint(twin.fingerprint_sha256()))
    return ManagementApi(
        twin.base_url,
        "admin",
        SecretStr(secrets.read(side.admin_secret)),
        pin,
        retry=RetryPolicy(attempts=attempts, sleep=lambda _s: None),
    )


def configure(api: ManagementApi, side: Side, secrets: SecretFiles, ca: Ca, *, reverse: bool = False) -> None:
    """What the pipeline leaves on a node, for ``side``. ``reverse`` creates the lists in the other order,
    so the two sides' ids differ as they would on two real deployments."""

    def order(items: list[Any]) -> list[Any]:
        return list(reversed(items)) if reverse else items

    api.patch(
        config_uri("global", 1),
        {
            "management_session_timeout": 10,
            "management_qos": 16,
            "enable_analytics": False,
            "error_reporting_enabled": False,
            "logon_banner": "Authorised use only",
            "legacy_api_username": "external",
            "legacy_api_password": secrets.read("legacy-api-password"),
        },
    )
    dns = {a: api.create("dns_server", {"address": a}) for a in order(["127.0.53.2", "127.0.53.3"])}
    ntp = {}
    for key_id, address in order([(1, "127.0.123.2"), (2, "127.0.123.3")]):
        ntp[address] = api.create(
            "ntp_server", {"address": address, "key_id": key_id, "key": secrets.read(f"ntp-key-{key_id}")}
        )
    syslog = api.create("syslog_server", {"address": "127.0.80.1", "port": 6514, "transport": "tls", "audit_log": True})
    nms = api.create(
        "snmp_network_management_system",
        {"name": "nms", "address": "127.0.161.1", "snmp_trap_community": secrets.read("trap-community")},
    )
    route = api.create("static_route", {"name": "mgmt", "address": "10.9.0.0", "prefix": 16, "gateway": "127.0.0.254"})
    location = api.create(
        "system_location",
        {
            "name": "London",
            "mtu": 1400,
            "media_qos": 51,
            "signalling_qos": 40,
            "dns_servers": order(list(dns.values())),
            "ntp_servers": list(ntp.values()),
            "syslog_servers": [syslog],
            "snmp_network_management_system": nms,
        },
    )
    snmp = {
        "snmp_mode": "AUTHPRIV",
        "snmp_username": "monitor",
        "snmp_authentication_password": secrets.read("snmp-auth-password"),
        "snmp_privacy_password": secrets.read("snmp-priv-password"),
        "snmp_community": secrets.read("snmp-community"),
        "snmp_system_contact": "noc@example.test",
    }
    fqdn = f"{side.node_hostname}.{DOMAIN}"
    cert_pem, key_pem = ca.issue(fqdn)
    api.create("ca_certificate", {"certificate": ca.pem(), "trusted_intermediate": False})
    cert = api.create("tls_certificate", {"certificate": cert_pem, "private_key": key_pem})
    api.create(
        "worker_vm",
        {
            "name": side.node_name,
            "hostname": side.node_hostname,
            "domain": DOMAIN,
            "address": side.node_address,
            "netmask": "255.255.255.0",
            "gateway": "127.0.0.254",
            "system_location": location,
            "password": secrets.read("node-password-conf01"),
            "deployment_type": "MANUAL-PROVISION-ONLY",
            "alternative_fqdn": fqdn,
            "static_routes": [route],
            "tls_certificate": cert,
            **snmp,
        },
    )
    mgr = next(api.iter_objects("management_vm"))
    api.patch(
        str(mgr["resource_uri"]),
        {"dns_servers": list(dns.values()), "ntp_servers": list(ntp.values()), "syslog_servers": [syslog], **snmp},
    )
    permissions = {str(p["name"]): str(p["resource_uri"]) for p in api.iter_objects("permission")}
    auditor = api.create(
        "role",
        {
            "name": "Auditor",
            "permissions": [permissions[n] for n in ("Is an administrator", "May use web interface", "May view logs")],
        },
    )
    api.create(
        "ldap_role",
        {"name": "auditors", "ldap_group_dn": "cn=auditors,ou=groups,dc=example,dc=test", "roles": [auditor]},
    )
    api.patch(
        config_uri("authentication", 1),
        {
            "source": "LDAP+LOCAL",
            "client_certificate": side.client_certificate,
            "ldap_server": "ldap.example.test",
            "ldap_base_dn": "dc=example,dc=test",
            "ldap_bind_username": "cn=pexip,dc=example,dc=test",
            "ldap_bind_password": secrets.read("ldap-bind-password"),
            "ldap_user_filter": "(objectclass=person)",
        },
    )
    if side.licensed:
        api.create("licence", {"entitlement_id": "ENT-PRIMARY-1"})
