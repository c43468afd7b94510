"""Advanced options: typed STIG defaults from the seed file, strict checks like ESXi."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyVmomi import VmomiSupport, vim, vmodl

from securemode.infra.vcsim.paths import DEFAULT_OPTIONS_SEED
from securemode.infra.vcsim.pytest_fixtures import connect, first_object

Long = VmomiSupport.vmodlTypes["long"]
Int = VmomiSupport.vmodlTypes["int"]
SEED = json.loads(DEFAULT_OPTIONS_SEED.read_text())["options"]
REQUIRED = [
    "Security.AccountLockFailures",
    "Security.AccountUnlockTime",
    "Security.PasswordQualityControl",
    "Security.PasswordHistory",
    "Annotations.WelcomeMessage",
    "Config.Etc.issue",
    "Config.HostAgent.plugins.solo.enableMob",
    "UserVars.ESXiShellInteractiveTimeOut",
    "UserVars.ESXiShellTimeOut",
    "UserVars.DcuiTimeOut",
    "UserVars.SuppressShellWarning",
    "Net.BlockGuestBPDU",
    "Net.DVFilterBindIpAddress",
    "Syslog.global.logHost",
    "Syslog.global.logDir",
    "Syslog.global.auditRecord.storageEnable",
    "Syslog.global.auditRecord.storageCapacity",
    "Syslog.global.auditRecord.remoteEnable",
    "Syslog.global.logLevel",
    "Mem.ShareForceSalting",
    "Config.HostAgent.log.level",
    "Config.HostAgent.vmacore.soap.sessionTimeout",
    "UserVars.HostClientSessionTimeout",
    "Security.SshSessionLimit",
    "UserVars.SuppressHyperthreadWarning",
    "VMkernel.Boot.execInstalledOnly",
    "Net.BMCNetworkEnable",
    "UserVars.HostClientCEIPOptIn",
]
PY_TYPE = {"long": Long, "int": Int, "bool": bool, "string": str}
OPTION_TYPE = {
    "long": vim.option.LongOption,
    "int": vim.option.IntOption,
    "bool": vim.option.BoolOption,
    "string": vim.option.StringOption,
}


def value(host: Any, key: str) -> Any:
    (opt,) = host.configManager.advancedOption.QueryOptions(key)
    return opt.value


def test_seed_covers_every_managed_stig_option() -> None:
    assert set(REQUIRED) <= {o["key"] for o in SEED}


@pytest.mark.parametrize("seed", SEED, ids=[o["key"] for o in SEED])
def test_defaults_have_their_esxi_type(vcsim_host: Any, seed: dict[str, Any]) -> None:
    got = value(vcsim_host, seed["key"])
    assert type(got) is PY_TYPE[seed["type"]]
    assert got == seed["default"]


def test_supported_option_describes_types(vcsim_host: Any) -> None:
    defs = {d.key: d.optionType for d in vcsim_host.configManager.advancedOption.supportedOption}
    for seed in SEED:
        assert isinstance(defs[seed["key"]], OPTION_TYPE[seed["type"]])
    assert defs["UserVars.DcuiTimeOut"].max == 86400


def test_update_long_int_bool_string_round_trip(vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    om.UpdateOptions(
        changedValue=[
            vim.option.OptionValue(key="UserVars.ESXiShellInteractiveTimeOut", value=Long(600)),
            vim.option.OptionValue(key="Security.AccountLockFailures", value=Int(3)),
            vim.option.OptionValue(key="Config.HostAgent.plugins.solo.enableMob", value=False),
            vim.option.OptionValue(key="Syslog.global.logHost", value="tcp://127.0.0.30:514"),
        ]
    )
    assert value(vcsim_host, "UserVars.ESXiShellInteractiveTimeOut") == 600
    assert value(vcsim_host, "Security.AccountLockFailures") == 3
    assert value(vcsim_host, "Syslog.global.logHost") == "tcp://127.0.0.30:514"


def test_int_sent_to_long_option_is_invalid_argument(vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    before = value(vcsim_host, "UserVars.DcuiTimeOut")
    with pytest.raises(vmodl.fault.InvalidArgument):
        om.UpdateOptions(changedValue=[vim.option.OptionValue(key="UserVars.DcuiTimeOut", value=Int(120))])
    with pytest.raises(vmodl.fault.InvalidArgument):
        om.UpdateOptions(changedValue=[vim.option.OptionValue(key="Security.AccountUnlockTime", value=Long(900))])
    assert value(vcsim_host, "UserVars.DcuiTimeOut") == before


def test_out_of_range_and_wrong_kind_are_invalid_argument(vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    for key, bad in [
        ("Mem.ShareForceSalting", Long(3)),
        ("Config.HostAgent.plugins.solo.enableMob", "false"),
        ("Syslog.global.logHost", Long(1)),
    ]:
        with pytest.raises(vmodl.fault.InvalidArgument):
            om.UpdateOptions(changedValue=[vim.option.OptionValue(key=key, value=bad)])


def test_refused_batch_changes_nothing(vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    batch = [
        vim.option.OptionValue(key="Annotations.WelcomeMessage", value="authorised use only"),
        vim.option.OptionValue(key="Security.Typo", value="x"),
    ]
    with pytest.raises(vim.fault.InvalidName):
        om.UpdateOptions(changedValue=batch)
    assert value(vcsim_host, "Annotations.WelcomeMessage") == ""


def test_unknown_key_is_invalid_name(vcsim_host: Any) -> None:
    om = vcsim_host.configManager.advancedOption
    with pytest.raises(vim.fault.InvalidName):
        om.QueryOptions("Security.NoSuchOption")
    with pytest.raises(vim.fault.InvalidName):
        om.QueryOptions("Security.AccountLock")  # a partial name is not a prefix query on ESXi


def test_subtree_query(vcsim_host: Any) -> None:
    keys = {o.key for o in vcsim_host.configManager.advancedOption.QueryOptions("Syslog.global.auditRecord.")}
    assert keys == {
        f"Syslog.global.auditRecord.{k}"
        for k in ("storageEnable", "storageCapacity", "storageDirectory", "remoteEnable")
    }


def test_lenient_mode_accepts_like_stock(vcsim_factory: Any) -> None:
    sim = vcsim_factory(strict_options=False, vms=0)
    host = first_object(connect(sim), vim.HostSystem)
    om = host.configManager.advancedOption
    om.UpdateOptions(changedValue=[vim.option.OptionValue(key="UserVars.DcuiTimeOut", value=Int(120))])
    assert value(host, "UserVars.DcuiTimeOut") == 120
