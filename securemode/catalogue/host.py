"""Guide: Securing the host environment — the ESXi STIG subset the vSphere API reaches, and host checks."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind
from securemode.results import JsonValue

SECTION = "Securing the host environment"

# (STIG id, title, option key, desired value). Ordering matters for the audit pair: storage
# capacity and log dir before storageEnable (STIG ESXI-80-000232 note).
ADVANCED_OPTIONS: tuple[tuple[str, str, str, JsonValue], ...] = (
    ("ESXI-80-000005", "Lock the account after 3 failed logons", "Security.AccountLockFailures", 3),
    ("ESXI-80-000111", "Unlock a locked account after 900 s", "Security.AccountUnlockTime", 900),
    ("ESXI-80-000035", "Password complexity", "Security.PasswordQualityControl",
     "similar=deny retry=3 min=disabled,disabled,disabled,disabled,15"),
    ("ESXI-80-000043", "Remember 5 passwords", "Security.PasswordHistory", 5),
    ("ESXI-80-000227", "Passwords expire after 90 days", "Security.PasswordMaxDays", 90),
    ("ESXI-80-000006", "Logon banner on the DCUI", "Annotations.WelcomeMessage", "site:vsphere.login_banner"),
    ("ESXI-80-000191", "Logon banner for SSH (/etc/issue)", "Config.Etc.issue", "site:vsphere.login_banner"),
    ("ESXI-80-000189", "DCUI access limited to root", "DCUI.Access", "root"),
    ("ESXI-80-000068", "ESXi Shell idle timeout 600 s", "UserVars.ESXiShellInteractiveTimeOut", 600),
    ("ESXI-80-000195", "ESXi Shell stops after 600 s", "UserVars.ESXiShellTimeOut", 600),
    ("ESXI-80-000196", "DCUI idle timeout 600 s", "UserVars.DcuiTimeOut", 600),
    ("ESXI-80-000010", "Host Client session timeout 600 s", "UserVars.HostClientSessionTimeout", 600),
    ("ESXI-80-000226", "vSphere API session timeout 30 min", "Config.HostAgent.vmacore.soap.sessionTimeout", 30),
    ("ESXI-80-000047", "Managed Object Browser off", "Config.HostAgent.plugins.solo.enableMob", False),
    ("ESXI-80-000222", "Shell warning not suppressed", "UserVars.SuppressShellWarning", 0),
    ("ESXI-80-000223", "Hyperthreading warning not suppressed", "UserVars.SuppressHyperthreadWarning", 0),
    ("ESXI-80-000015", "hostd log level info", "Config.HostAgent.log.level", "info"),
    ("ESXI-80-000114", "Remote syslog host", "Syslog.global.logHost", "site:vsphere.syslog_host"),
    ("ESXI-80-000235", "Syslog log level info", "Syslog.global.logLevel", "info"),
    ("ESXI-80-000243", "Persistent local log directory", "Syslog.global.logDir", "[] /scratch/log"),
    ("ESXI-80-000113", "Audit record storage capacity 100 MiB", "Syslog.global.auditRecord.storageCapacity", 100),
    ("ESXI-80-000232", "Audit records stored", "Syslog.global.auditRecord.storageEnable", True),
    ("ESXI-80-000233", "Audit records sent to remote syslog", "Syslog.global.auditRecord.remoteEnable", True),
    ("ESXI-80-000224", "TLS syslog certificates verified", "Syslog.global.certificate.checkSSLCerts", True),
    ("ESXI-80-000234", "Strict X.509 for TLS syslog", "Syslog.global.certificate.strictX509Compliance", True),
    ("ESXI-80-000215", "Guest BPDUs blocked", "Net.BlockGuestBPDU", 1),
    ("ESXI-80-000219", "dvFilter network API restricted", "Net.DVFilterBindIpAddress", ""),
    ("ESXI-80-000213", "No inter-VM page sharing", "Mem.ShareForceSalting", 2),
    ("ESXI-80-000225", "Volatile keys destroyed", "Mem.MemEagerZero", 1),
    ("ESXI-80-000244", "Only installed VIBs execute", "VMkernel.Boot.execInstalledOnly", True),
    ("ESXI-80-000250", "Virtual BMC NIC off", "Net.BMCNetworkEnable", 0),
)

# Boot options: set through the API at once, effective after the host's next reboot.
BOOT_OPTIONS = frozenset({"VMkernel.Boot.execInstalledOnly"})

# What "stopped and off" means for a host service: the one value the task writes and the verifier reads back.
SERVICE_OFF: dict[str, JsonValue] = {"running": False, "policy": "off"}
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("ESXI-80-000193", "SSH service stopped and off", "TSM-SSH"),
    ("ESXI-80-000194", "ESXi Shell service stopped and off", "TSM"),
    ("ESXI-80-000228", "CIM service stopped and off", "sfcbd-watchdog"),
    ("ESXI-80-000231", "OpenSLP service stopped and off", "slpd"),
)


def _stig(
    stig_id: str,
    title: str,
    *,
    desired: JsonValue,
    setting: str,
    severity: ControlSeverity = ControlSeverity.MEDIUM,
    flags: frozenset[Flag] = frozenset(),
) -> Control:
    return Control(id=f"host.stig.{stig_id}", title=title, stage=Stage.HOST, section=SECTION,
                   target=TargetKind.ESXI_HOST, desired=desired,
                   setting=setting, severity=severity, flags=flags)


CONTROLS: tuple[Control, ...] = (
    Control(id="host.pnics.count", title="Host has at least two physical NICs", stage=Stage.HOST, section=SECTION,
            guide_text="the host server contains at least two physical network interfaces",
            target=TargetKind.ESXI_HOST, desired=">= 2", flags=frozenset({Flag.VERIFY_ONLY}),
            setting="config.network.pnic"),
    Control(id="host.pnics.separate", title="Management and VM networks on separate physical NICs", stage=Stage.HOST,
            section=SECTION, guide_text="virtual machines (VMs) are connected to a separate physical network",
            target=TargetKind.ESXI_HOST, desired="disjoint pNIC sets", severity=ControlSeverity.HIGH,
            setting="config.network.vswitch[].pnic"),
    Control(id="host.vlan.no-4095", title="No port group on VLAN 4095", stage=Stage.HOST,
            section=SECTION, guide_text="must not use VLAN ID 4095",
            target=TargetKind.ESXI_HOST, desired="vlanId != 4095", severity=ControlSeverity.HIGH,
            setting="config.network.portgroup[].spec.vlanId"),
    Control(id="host.vlan.not-reserved", title="No port group on a reserved VLAN", stage=Stage.HOST, section=SECTION,
            guide_text="must not conflict with existing reserved VLAN IDs", target=TargetKind.ESXI_HOST,
            desired="site:vsphere.reserved_vlans", setting="config.network.portgroup[].spec.vlanId"),
    *(
        _stig(sid, title, desired=value, setting=key,
              flags=frozenset({Flag.NEEDS_REBOOT}) if key in BOOT_OPTIONS else frozenset())
        for sid, title, key, value in ADVANCED_OPTIONS
    ),
    *(
        _stig(sid, title, desired=SERVICE_OFF, setting=key)
        for sid, title, key in SERVICES
    ),
    _stig("ESXI-80-000124", "NTP servers set and ntpd running", desired="site:ntp_servers",
          setting="config.dateTimeInfo.ntpConfig.server"),
    _stig("ESXI-80-000216", "Forged transmits rejected", desired=False, setting="security.forgedTransmits"),
    _stig("ESXI-80-000217", "MAC address changes rejected", desired=False, severity=ControlSeverity.HIGH,
          setting="security.macChanges"),
    _stig("ESXI-80-000218", "Promiscuous mode rejected", desired=False,
          setting="security.allowPromiscuous"),
    Control(id="host.engine-account.least-role", title="The engine's account holds only the role it needs",
            stage=Stage.HOST, section=SECTION,
            target=TargetKind.ESXI_HOST, desired="role securemode-engine on the root folder, never Admin",
            severity=ControlSeverity.HIGH,
            setting="authorizationManager.RetrieveAllPermissions"),
    _stig("ESXI-80-000201", "Lockdown exception users: only the engine's own account",
          desired="[site:vsphere.username]",
          setting="hostAccessManager.QueryLockdownExceptions"),
    _stig("ESXI-80-000008", "Lockdown mode enabled", desired="lockdownNormal",
          flags=frozenset({Flag.LOCKOUT_RISK}), setting="config.lockdownMode"),
)
