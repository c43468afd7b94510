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
    SIP_LISTENER = "sip_listener"  # every conferencing node; the management node while there is none
    SERVER_OWNER = "server_owner"  # the Management Node and every location (each holds DNS/NTP/syslog lists)
    PLATFORM = "platform"  # the deployment as a whole, through the management node
    LOCATION = "location"
    LDAP = "ldap"
    NTP_SERVER = "ntp_server"
    DNS_SERVER = "dns_server"
    SYSLOG_SERVER = "syslog_server"
    CONTINGENCY = "contingency"  # the contingency deployment as a whole (parity, exceptions, licence)
    FALLBACK_VM = "fallback_vm"  # every VM of the contingency deployment


class ControlSeverity(StrEnum):
    """How bad a failure is. STIG rows take DISA's category (CAT I/II/III = high/medium/low).

    The guide's rows are graded once, by this rule: **high** when a failure exposes the system directly
    (a way in without the intended authentication, traffic readable or forgeable, a lockout of the
    administrators, a powered-on fallback); **medium** when it weakens a layer of defence or the audit
    trail but another control still stands in the way; **low** for optional or hygiene settings.
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def stig_category(self) -> str:
        """DISA's name for the same grade."""
        return {"high": "CAT I", "medium": "CAT II", "low": "CAT III"}[self.value]

    @property
    def impact(self) -> float:
        """InSpec/HDF impact for the grade (0.7 / 0.5 / 0.3, as DISA profiles use)."""
        return {"high": 0.7, "medium": 0.5, "low": 0.3}[self.value]


class StigRule(BaseModel):
    """The DISA STIG rule a control implements (VMware vSphere 8.0 ESXi STIG)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stig_id: str = Field(pattern=r"^ESXI-80-\d{6}$")
    vuln_id: str = Field(pattern=r"^V-\d+$", description="Group (vulnerability) id, e.g. V-258728.")
    rule_id: str = Field(pattern=r"^SV-\d+r\d+_rule$", description="Rule id with its revision.")
    srg_id: str = Field(description="The SRG requirement the rule implements (gtitle).")
    ccis: tuple[str, ...] = Field(min_length=1)


class Flag(StrEnum):
    IRREVERSIBLE = "irreversible"  # cannot be undone (security wizard)
    LOCKOUT_RISK = "lockout_risk"  # can lock the engine or admins out: gated
    MANUAL = "manual"  # needs a recorded human attestation
    NEEDS_REBOOT = "needs_reboot"
    VERIFY_ONLY = "verify_only"  # the guide asks to review/verify, not to change


class Control(BaseModel):
    """One requirement: where it comes from, what it applies to and what is wanted.

    Data only: the step that enforces it and the verifier(s) that prove it are bound to it, as objects, by
    its stage (``securemode.binding``), so the catalogue never names code it cannot check.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]+(\.[a-z0-9_-]+)+$|^[a-z]+\.stig\.ESXI-80-\d{6}$")
    title: str
    stage: Stage
    section: str = Field(description="Guide section the control comes from, titled as printed in the guide.")
    guide_text: str | None = Field(default=None, description="The guide's own words for the row, when it is a row.")
    target: TargetKind
    desired: JsonValue = Field(description="Desired value; 'site:<path>' means taken from the site file.")
    severity: ControlSeverity = ControlSeverity.MEDIUM
    flags: frozenset[Flag] = frozenset()
    setting: str | None = Field(default=None, description="The API field, option key or property involved.")
    stig: StigRule | None = Field(default=None, description="The ESXi STIG rule, for STIG rows.")
    nist: tuple[str, ...] = Field(default=(), description="NIST SP 800-53 rev5 controls (via the STIG's CCIs for "
                                  "STIG rows; chosen in securemode.catalogue.mappings for the guide's rows).")

    @property
    def desired_text(self) -> str:
        return str(self.desired)
