"""NTP on the ESXi host (STIG ESXI-80-000124): the site's servers, ntpd on and running.

ESXi's API sets servers only; symmetric keys for NTP are not reachable through it (the platform
stage configures keyed NTP on the Pexip nodes).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.vsphere import host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import NTP_SERVICE, ntp_servers
from securemode.vsphere.host_state import read_ntp_servers, read_services
from securemode.vsphere.vmodl import vim

CONTROL = "host.stig.ESXI-80-000124"
POLICY_ON = "on"


def plan_ntp(host: Any, target: str, servers: list[str], current: list[str], services: dict[str, Any]) -> list[Planned]:
    """Servers first, then ntpd's policy on and ntpd running (restarted when only the servers changed)."""
    planned: list[Planned] = []
    system = host.configManager.serviceSystem
    if sorted(current) != sorted(servers):
        config = vim.host.DateTimeConfig(ntpConfig=vim.host.NtpConfig(server=servers))
        planned.append(Planned(action=lambda: host.configManager.dateTimeSystem.UpdateDateTimeConfig(config=config),
                               changes=(change(CONTROL, target, "ntpConfig.server", current, servers),)))
    ntpd = services.get(NTP_SERVICE)
    if ntpd is None:
        return planned
    if ntpd.policy != POLICY_ON:
        planned.append(Planned(action=lambda: system.UpdateServicePolicy(id=NTP_SERVICE, policy=POLICY_ON),
                               changes=(change(CONTROL, target, f"{NTP_SERVICE}.policy", ntpd.policy, POLICY_ON),)))
    if not ntpd.running:
        planned.append(Planned(action=lambda: system.StartService(id=NTP_SERVICE),
                               changes=(change(CONTROL, target, f"{NTP_SERVICE}.running", False, True),)))
    elif planned and sorted(current) != sorted(servers):
        planned.append(Planned(action=lambda: system.RestartService(id=NTP_SERVICE)))  # pick up the new servers
    return planned


def ensure_ntp(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    site = ctx.site.site
    host = resources.enter_context(open_site_session(ctx.site)).host()
    return plan_of(*plan_ntp(host, host_target(site), ntp_servers(site), read_ntp_servers(host), read_services(host)))
