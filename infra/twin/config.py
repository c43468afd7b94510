"""Every guess the twin makes about a real v16 Management Node, in one place.

The reference marks many behaviours [?]; each one is a field here so the lab and the tests can vary it,
and FIDELITY.md lists them. Nothing else in the twin hard-codes a guessed behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PermissionDef:
    """One row of the permission table (Django auth_permission)."""

    codename: str
    name: str


# Names the guide quotes are [V]; the view/change/status/backup split is a guess [?] that lets a
# Read-only role read but not write, as Pexip's docs describe it.
DEFAULT_PERMISSIONS: tuple[PermissionDef, ...] = (
    PermissionDef("is_admin", "Is an administrator"),
    PermissionDef("use_web", "May use web interface"),
    PermissionDef("use_api", "May use API"),
    PermissionDef("view_logs", "May view logs"),
    PermissionDef("generate_snapshot", "May generate system snapshot"),
    PermissionDef("view_configuration", "May view configuration"),
    PermissionDef("change_configuration", "May change configuration"),
    PermissionDef("view_status", "May view status"),
    PermissionDef("create_backup", "May create and restore backups"),
)

_READ_ONLY = tuple(p.codename for p in DEFAULT_PERMISSIONS if p.codename != "change_configuration")
_READ_WRITE = tuple(p.codename for p in DEFAULT_PERMISSIONS)

DEFAULT_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Read-only", _READ_ONLY),
    ("Read-write", _READ_WRITE),
)

FIPS_CIPHERS = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"
)


@dataclass(frozen=True)
class TwinConfig:
    """Knobs for guessed behaviour; defaults are the twin's best guess of a v16 node."""

    software_version: str = "16.0.0"
    # Tastypie conventions [I]
    default_limit: int = 20
    max_limit: int | None = 1000
    create_status: int = 201
    patch_status: int = 202
    put_status: int = 204
    delete_status: int = 204
    command_status: int = 202
    forbidden_status: int = 403
    reject_unknown_fields: bool = False
    append_slash_redirect: bool = True
    basic_realm: str = "django-tastypie"
    # permission table and built-in roles [?]
    permissions: tuple[PermissionDef, ...] = DEFAULT_PERMISSIONS
    builtin_roles: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_ROLES
    # worker_vm deployment types [?]: the manual ESXi strings are not in any source
    provision_only_type: str = "MANUAL-PROVISION-ONLY"
    ova_deployment_types: tuple[str, ...] = ("MANUAL-ESXI6", "MANUAL-ESXI5", "MANUAL-ESXI4")
    # PKI
    self_signed_key_bits: int = 4096
    # web sessions
    session_minute_seconds: float = 60.0
    session_limit_policy: Literal["refuse", "evict_oldest"] = "refuse"
    require_csrf: bool = True
    password_hash_iterations: int = 36000
    # client certificates [?]
    client_cert_fail_handshake: bool = False
    client_cert_api_basic_fallback: bool = False
    # TLS posture [?]
    fips_allow_tls13: bool = False
    fips_ciphers: str = FIPS_CIPHERS
    tls10_also_enables_tls11: bool = True
    # LDAP
    ldap_timeout_s: float = 5.0
    # host header validation: extra names accepted besides the node's own [?]
    extra_allowed_hosts: tuple[str, ...] = ()
    # status: seconds after creation before a conferencing node reports in (docs: ~5 min) [V, compressed]
    status_report_delay_s: float = 0.0
    # status from the nodes themselves (bare lab): a node nothing reported for is NOT_DEPLOYED, never contacted
    # (the enum strings are [?]); its own agent reports DEPLOYED/SYNCED once it has booted and registered
    status_from_node_reports: bool = False
    # licence activation in the lab (no FlexNet server) [?]
    licence_activation_succeeds: bool = True
