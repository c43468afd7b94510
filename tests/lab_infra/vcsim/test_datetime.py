"""HostDateTimeSystem: NTP servers through UpdateDateTimeConfig, read back in host.config."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pyVmomi import vim, vmodl


def test_default_is_utc_without_servers(vcsim_host: Any) -> None:
    info = vcsim_host.config.dateTimeInfo
    assert info.timeZone.key == "UTC"
    assert list(info.ntpConfig.server) == []


def test_ntp_servers_round_trip(vcsim_host: Any) -> None:
    system = vcsim_host.configManager.dateTimeSystem
    servers = ["127.0.0.21", "ntp2.lab.example"]
    system.UpdateDateTimeConfig(config=vim.host.DateTimeConfig(ntpConfig=vim.host.NtpConfig(server=servers)))
    assert list(system.dateTimeInfo.ntpConfig.server) == servers
    assert list(vcsim_host.config.dateTimeInfo.ntpConfig.server) == servers


def test_invalid_server_is_refused_and_nothing_changes(vcsim_host: Any) -> None:
    system = vcsim_host.configManager.dateTimeSystem
    before = list(system.dateTimeInfo.ntpConfig.server)
    bad = vim.host.DateTimeConfig(ntpConfig=vim.host.NtpConfig(server=["not a host!"]))
    with pytest.raises(vmodl.fault.InvalidArgument):
        system.UpdateDateTimeConfig(config=bad)
    assert list(system.dateTimeInfo.ntpConfig.server) == before


def test_only_utc_time_zone(vcsim_host: Any) -> None:
    system = vcsim_host.configManager.dateTimeSystem
    with pytest.raises(vmodl.fault.InvalidArgument):
        system.UpdateDateTimeConfig(config=vim.host.DateTimeConfig(timeZone="Europe/Oslo"))
    assert [tz.key for tz in system.QueryAvailableTimeZones()] == ["UTC"]


def test_query_date_time_is_now(vcsim_host: Any) -> None:
    now = vcsim_host.configManager.dateTimeSystem.QueryDateTime()
    assert abs((now - dt.datetime.now(dt.UTC)).total_seconds()) < 30
