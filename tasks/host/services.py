"""Host services the STIG wants stopped with policy off: SSH, ESXi Shell, CIM, SLP."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.catalogue.host import SERVICE_OFF
from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.vsphere import host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import services_off
from securemode.vsphere.host_state import read_services

POLICY_OFF = str(SERVICE_OFF["policy"])  # the catalogue's one definition of "stopped and off"


def plan_services_off(host: Any, target: str, services: dict[str, Any]) -> list[Planned]:
    """Policy off first (so nothing restarts it), then stop it if it runs. Absent services need nothing."""
    system = host.configManager.serviceSystem
    planned = []
    for control, key in services_off():
        svc = services.get(key)
        if svc is None:
            continue
        if svc.policy != POLICY_OFF:
            planned.append(Planned(action=partial(system.UpdateServicePolicy, id=key, policy=POLICY_OFF),
                                   changes=(change(control, target, f"{key}.policy", svc.policy, POLICY_OFF),)))
        if svc.running:
            planned.append(Planned(action=partial(system.StopService, id=key),
                                   changes=(change(control, target, f"{key}.running", True, False),)))
    return planned


def ensure_services(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    host = resources.enter_context(open_site_session(ctx.site)).host()
    return plan_of(*plan_services_off(host, host_target(ctx.site.site), read_services(host)))
