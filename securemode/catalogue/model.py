"""What a control is (design principle 1): one entry from which both the fix and the check come."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from securemode.results import JsonValue


class Stage(StrEnum):
    """Pipeline stages in the guide's order."""

    HOST = "host"
    VMS = "vms"
    BOOTSTRAP = "bootstrap"
    NODES = "nodes"
    PKI = "pki"
    PLATFORM = "platform"
    AUTH = "auth"
    CONTINGENCY = "contingency"


class TargetKind(StrEnum):
    """What a control is checked on; one result per control and target."""

    ESXI_HOST = "esxi_host"
    VM = "vm"
    MANAGEMENT_NODE = "management_node"
    CONFERENCING_NODE = "conferencing_node"
    NODE = "node"  # management and every conferencing node
    PLATFORM = "platform"  # the deployment as a whole, through the management node
    LOCATION = "location"
    LDAP = "ldap"
    NTP_SERVER = "ntp_server"
    DNS_SERVER = "dns_server"
    SYSLOG_SERVER = "syslog_server"
    CONTINGENCY = "contingency"


class ControlSeverity(StrEnum):
    HIGH = "high"  # STIG CAT I, or a guide step whose failure exposes the system
    MEDIUM = "medium"
    LOW = "low"


class Flag(StrEnum):
    IRREVERSIBLE = "irreversible"  # cannot be undone (security wizard)
    LOCKOUT_RISK = "lockout_risk"  # can lock the engine or admins out: gated
    MANUAL = "manual"  # needs a recorded human attestation
    NEEDS_REBOOT = "needs_reboot"
    VERIFY_ONLY = "verify_only"  # the guide asks to review/verify, not to change


class Control(BaseModel):
    """One requirement: where it comes from, what it applies to, what is wanted, who enforces and proves it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]+(\.[a-z0-9_-]+)+$|^[a-z]+\.stig\.ESXI-80-\d{6}$")
    title: str
    stage: Stage
    section: str = Field(description="Guide section (or STIG id) the control comes from.")
    guide_text: str | None = Field(default=None, description="The guide's own words for the row, when it is a row.")
    target: TargetKind
    desired: JsonValue = Field(description="Desired value; 'site:<path>' means taken from the site file.")
    severity: ControlSeverity = ControlSeverity.MEDIUM
    flags: frozenset[Flag] = frozenset()
    enforced_by: str | None = Field(default=None, description="Task (ensure-operation) that applies it.")
    verified_by: tuple[str, ...] = Field(default=(), description="Verifier(s) that prove it independently.")
    setting: str | None = Field(default=None, description="The API field, option key or property involved.")

    @property
    def desired_text(self) -> str:
        return str(self.desired)
