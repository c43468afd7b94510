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

from securemode.engine import Change, EngineContext
from securemode.vsphere import VSphereSession, host_target, open_site_session
from securemode.vsphere.changes import Planned, carry_out, change
from securemode.vsphere.desired_host import LOCKDOWN_MODE, LOCKED_MODES, ROOT_ACCOUNT, lockdown_exceptions
from securemode.vsphere.host_state import read_lockdown_mode

EXCEPTIONS = "host.stig.ESXI-80-000201"
MODE = "host.stig.ESXI-80-000008"
GATE = "host.lockdown"
VCENTER = "VirtualCenter"


def ensure_lockdown_exceptions(ctx: EngineContext) -> list[Change]:
    """Exactly the engine's account on the exception list (added before, kept during lockdown)."""
    site = ctx.site.site
    target = host_target(site)
    wanted = lockdown_exceptions(site)
    with open_site_session(ctx.site) as session:
        manager = session.host().configManager.hostAccessManager
        current = list(manager.QueryLockdownExceptions() or [])
        if sorted(current) == sorted(wanted):
            return []
        planned = Planned(action=lambda: manager.UpdateLockdownExceptions(users=wanted),
                          changes=(change(EXCEPTIONS, target, "lockdownExceptions", current, wanted),))
        return carry_out([planned], ctx.apply)


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


def ensure_lockdown_mode(ctx: EngineContext) -> list[Change]:
    """Enter normal lockdown: only when applying, only if the precondition holds, only when approved."""
    target = host_target(ctx.site.site)
    with open_site_session(ctx.site) as session:
        host = session.host()
        current = read_lockdown_mode(host)
        if current in LOCKED_MODES:
            return []
        wanted = change(MODE, target, "lockdownMode", current, LOCKDOWN_MODE)
        if not ctx.apply:
            return [wanted]
        reason = lockdown_precondition(session)
        if reason is not None:
            ctx.skipped.append(f"{GATE}: precondition not met: {reason}")
            return [wanted]
        if not ctx.approved(GATE, wanted.render()):
            return [wanted]
        manager = host.configManager.hostAccessManager
        return carry_out([Planned(action=lambda: manager.ChangeLockdownMode(mode=LOCKDOWN_MODE),
                                  changes=(wanted,))], True)
