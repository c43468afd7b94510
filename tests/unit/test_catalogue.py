"""The catalogue covers every row of the guide's tables; its entries are well formed."""

from __future__ import annotations

import re

import pytest

from securemode.catalogue import BY_ID, CONTROLS, Flag, TargetKind
from tests.conftest import GUIDE


def guide_text() -> str:
    assert GUIDE.exists(), f"the guide is vendored at {GUIDE}"
    return GUIDE.read_text(encoding="utf-8")


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def security_wizard_rows(text: str) -> list[str]:
    """Rows of the security-wizard table: 'Label (default) answer' lines."""
    body = section(text, "8. Complete the security wizard", "* The SIP listen ports")
    rows = []
    for line in body.splitlines():
        match = re.match(r"^\s*([A-Z][^()]+?) \((?:default = )?[A-Z0-9]+\)", line)
        if match:
            rows.append(match.group(1).strip())
    return rows


ACTION = re.compile(r"(Review the call protocols.*?not need to support\.|Disable this option\.|Disable support for "
                    r"these applications\.|Set a DSCP value.*?value of 16\."
                    r"|Verify the range.*?for (?:signaling|media)\."
                    r"|Set this to Override.*?will be sent\.|Set this to On\.|Ensure that this option is disabled\."
                    r"|Configure this field.*?deployment\.|Set this to 10 minutes.*?deployment\.)")


def global_settings_rows(text: str) -> list[str]:
    """Row labels of the Global settings table (the call-protocol rows share one action)."""
    body = normalised(section(text, "Go to Platform Configuration > Global Settings", "Configure user accounts"))
    body = body.split("following settings:", 1)[1].replace("Setting Action", " ")
    labels = []
    for chunk in ACTION.split(body):
        chunk = chunk.strip()
        if not chunk or ACTION.fullmatch(chunk):
            continue
        if chunk.startswith("Enable SIP"):
            labels += ["Enable " + part.strip() for part in chunk.split("Enable ") if part.strip()]
        else:
            labels.append(chunk)
    return labels


def covered(label: str) -> bool:
    return any(c.guide_text and normalised(label) in normalised(c.guide_text) for c in CONTROLS)


def test_every_security_wizard_row_has_a_control() -> None:
    rows = security_wizard_rows(guide_text())
    assert len(rows) == 14, rows
    missing = [row for row in rows if not covered(row)]
    assert not missing, f"security-wizard rows without a control: {missing}"


def test_every_global_setting_row_has_a_control() -> None:
    rows = global_settings_rows(guide_text())
    assert len(rows) == 16, rows
    missing = [row for row in rows if not covered(row)]
    assert not missing, f"global-settings rows without a control: {missing}"


def test_every_role_permission_change_has_a_control() -> None:
    text = normalised(section(guide_text(), "Account roles", "LDAP server connection details"))
    removed = re.findall(r"Select the existing (Read-only|Read-write) role and remove the following permissions: "
                         r"o (May [a-z ]+?) o (May [a-z ]+?) \d", text)
    assert len(removed) == 2
    for role, *perms in removed:
        for perm in perms:
            row = f"Select the existing {role} role and remove the following permissions: {perm}"
            assert covered(row), (role, perm)
    auditor = re.findall(r"n ((?:Is|May) [A-Za-z ]+?)(?= n | d\.)", text)
    assert len(auditor) == 5
    assert BY_ID["platform.role.auditor"].desired == auditor


@pytest.mark.parametrize("needle", [
    "Configure at least two DNS servers", "Configure at least two NTP servers",
    "The configuration for each NTP server must include key authentication credentials",
    "Configure at least one remote syslog server", "Set SNMP mode to SNMPv3 read-only",
    "Change the SNMP community to something other than \"public\"", "DSCP value for media is set to 51",
    "DSCP value for signaling is set to 40", "We recommend a value of 1400 bytes",
    "Set the Authentication source to LDAP database and local database",
    "ensuring that every account role is mapped to at least one LDAP group",
    "Set Require client certificate to one of the Required options", "Set the Authentication source to LDAP database",
    "Set Authentication source to LDAP database and local database", "Set Require client certificate to Not required",
    "It should be deployed without licensing", "all VMs should be completely powered off and remain off until required",
    "Enable incident reporting is set to no", "Send deployment and usage statistics to Pexip is set to no",
    "must not use VLAN ID 4095", "The sum of all IOP limits for all VMs on the same host must not exceed the capacity",
    "Force BIOS setup", "Configure a Supervisor password", "Reserve all guest memory (All locked)",
    "the host server contains at least two physical network interfaces",
    "configure a SIP TLS FQDN on each Conferencing Node that matches one of the entries in the TLS certificate",
    "You must also upload the trusted Certificate Authority (CA) certificates",
    "All Conferencing Nodes should be deployed manually",
])
def test_network_service_and_other_requirements_have_controls(needle: str) -> None:
    assert normalised(needle) in normalised(guide_text()), "the requirement is quoted from the guide"
    assert covered(needle), f"no control for: {needle}"


def test_every_quoted_guide_text_is_in_the_guide() -> None:
    text = normalised(guide_text()).replace("  ", " ")
    invented = [c.id for c in CONTROLS if c.guide_text and normalised(c.guide_text) not in text
                and not c.guide_text.startswith("Select the existing")]
    assert not invented, f"controls quoting text the guide does not contain: {invented}"


def test_ids_are_unique_and_stage_prefixed() -> None:
    assert len(BY_ID) == len(CONTROLS)
    for control in CONTROLS:
        assert control.id.split(".")[0] == control.stage.value


def test_stig_subset_present() -> None:
    stig = [c for c in CONTROLS if c.id.startswith("host.stig.")]
    assert len(stig) >= 40
    assert all(c.target is TargetKind.ESXI_HOST for c in stig)
    lockdown = BY_ID["host.stig.ESXI-80-000008"]
    assert Flag.LOCKOUT_RISK in lockdown.flags


def test_gated_steps_are_flagged() -> None:
    assert all(Flag.IRREVERSIBLE in c.flags for c in CONTROLS if c.id.startswith("bootstrap.wizard."))
    assert Flag.LOCKOUT_RISK in BY_ID["auth.source.ldap-only"].flags
    assert Flag.LOCKOUT_RISK in BY_ID["auth.client-certificate"].flags
    assert Flag.MANUAL in BY_ID["vms.bios.supervisor-password"].flags


NIST_ID = re.compile(r"^[A-Z]{2}-\d+( \(\d+\))*( \([a-z]\))?( [a-z])?$")


def test_every_control_names_its_guide_section_as_printed() -> None:
    guide = normalised(guide_text())
    missing = sorted({c.section for c in CONTROLS if normalised(c.section) not in guide})
    assert not missing, f"sections not printed in the guide: {missing}"


def test_every_control_has_severity_and_nist_and_stig_rows_their_rule() -> None:
    for control in CONTROLS:
        assert control.nist, f"{control.id}: no NIST SP 800-53 control"
        assert all(NIST_ID.match(n) for n in control.nist), (control.id, control.nist)
        is_stig_row = ".stig." in control.id or control.id == "host.vlan.no-4095"
        assert (control.stig is not None) == is_stig_row, control.id
        if control.stig is not None:
            assert control.id.endswith(control.stig.stig_id) or control.id == "host.vlan.no-4095"
            assert control.stig.vuln_id.startswith("V-") and control.stig.rule_id.startswith("SV-")
            assert control.stig.ccis and all(c.startswith("CCI-") for c in control.stig.ccis)
    # DISA's categories, not ours: MAC changes is CAT I, inter-VM page sharing CAT III, VLAN 4095 CAT II.
    assert BY_ID["host.stig.ESXI-80-000217"].severity.stig_category == "CAT I"
    assert BY_ID["host.stig.ESXI-80-000213"].severity.stig_category == "CAT III"
    assert BY_ID["host.vlan.no-4095"].severity.stig_category == "CAT II"


def test_the_issue_s_examples_of_guide_nist_choices() -> None:
    assert {"SC-8", "SC-13"} <= set(BY_ID["pki.tls10-refused"].nist)
    assert {"IA-2", "AC-2"} <= set(BY_ID["auth.source.ldap-only"].nist)
    assert {"AU-4", "AU-9"} <= set(BY_ID["platform.syslog.servers"].nist)
