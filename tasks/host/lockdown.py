"""Lockdown mode (STIG ESXI-80-000008) and its exception users (ESXI-80-000201) — always the last host step.

Why the engine keeps a way in: in normal lockdown mode ESXi refuses direct logins (API, Host
Client) of every user except those on the exception list; logins through the vCenter that manages
the host (its ``vpxuser``) keep working. What is checkable, on ESXi and in the lab's vcsim alike:

* through vCenter (``about.apiType == "VirtualCenter"``) API access persists by design;
* directly on ESXi (``"HostAgent"``) the engine's own account must be on the exception list, read back
  from the host (``QueryLockdownExceptions``) and be the user this very session runs as.

So the exception list is set to exactly the engine's account first (a step of its own), and lockdown is
entered only when that precondition holds and a person approved step ``host.lockdown`` (principle 5).
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.vsphere import VSphereSession, host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import LOCKDOWN_MODE, LOCKED_MODES, ROOT_ACCOUNT, lockdown_exceptions
from securemode.vsphere.host_state import read_lockdown_mode

EXCEPTIONS = "host.stig.ESXI-80-000201"
MODE = "host.stig.ESXI-80-000008"
GATE = "host.lockdown"
VCENTER = "VirtualCenter"


def plan_exceptions(manager: Any, target: str, current: list[str], wanted: list[str]) -> list[Planned]:
    """Replace the exception list when it is not exactly ``wanted`` (order does not matter)."""
    if sorted(current) == sorted(wanted):
        return []
    return [Planned(action=partial(manager.UpdateLockdownExceptions, users=wanted),
                    changes=(change(EXCEPTIONS, target, "lockdownExceptions", current, wanted),))]


def ensure_lockdown_exceptions(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Exactly the engine's account on the exception list (added before, kept during lockdown)."""
    site = ctx.site.site
    manager = resources.enter_context(open_site_session(ctx.site)).host().configManager.hostAccessManager
    current = list(manager.QueryLockdownExceptions() or [])
    return plan_of(*plan_exceptions(manager, host_target(site), current, lockdown_exceptions(site)))


def lockdown_precondition(session: VSphereSession) -> str | None:
    """None when the engine keeps API access after lockdown; otherwise why it would not."""
    if session.api_type == VCENTER:
        return None
    user = session.user
    if user == ROOT_ACCOUNT:
        return ("the engine logs in as root, which would stay reachable over the API during lockdown; "
                "name a dedicated account as vsphere.username")
    if user != session.endpoint.username:
        return f"this session runs as '{user}', not as the site's user '{session.endpoint.username}'"
    exceptions = list(session.host().configManager.hostAccessManager.QueryLockdownExceptions() or [])
    if user not in exceptions:
        return (f"'{user}' is not a lockdown exception user on the host (exceptions: {exceptions or 'none'}); "
                "entering lockdown would lock the engine out")
    return None


def plan_lockdown(manager: Any, target: str, current: str, precondition: str | None) -> StepPlan:
    """Enter normal lockdown unless the host is locked already; blocked while the precondition fails."""
    if current in LOCKED_MODES:
        return plan_of()
    return plan_of(Planned(action=partial(manager.ChangeLockdownMode, mode=LOCKDOWN_MODE),
                           changes=(change(MODE, target, "lockdownMode", current, LOCKDOWN_MODE),)),
                   blocked=None if precondition is None else f"{GATE}: precondition not met: {precondition}")


def ensure_lockdown_mode(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Enter normal lockdown: only when applying, only if the precondition holds, only when approved (the
    step is gated by ``host.lockdown``); the precondition is read only for a run."""
    session = resources.enter_context(open_site_session(ctx.site))
    host = session.host()
    current = read_lockdown_mode(host)
    precondition = lockdown_precondition(session) if ctx.apply and current not in LOCKED_MODES else None
    return plan_lockdown(host.configManager.hostAccessManager, host_target(ctx.site.site), current, precondition)
