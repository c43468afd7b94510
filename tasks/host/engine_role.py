"""The engine account's least role (``host.engine-account.least-role``): set before lockdown, kept after.

Read → diff → change only what differs, in an order that never cuts a right a later call needs:

1. the role ``securemode-engine`` is created or its privileges corrected (needs Authorization.ModifyRoles);
2. the account's permissions elsewhere that grant more than the role are removed;
3. last, the account's permission on the host's root folder becomes that role, propagating. This drops
   the account's own Authorization.* rights, so nothing after it in this step may need them; every
   later step (lockdown, the vms stage) needs only privileges of the role.

Once reduced, the engine cannot change roles or permissions any more (least privilege means it must
not): drift it cannot repair is reported as a skipped step with the administrator's fix. Runs only
directly on ESXi: through vCenter, roles and permissions are vCenter-wide and belong to its admins.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Deferred, EngineContext, StepPlan, plan_of
from securemode.vsphere import host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import ROOT_ACCOUNT
from securemode.vsphere.engine_role import (
    ADMIN_ROLE_ID,
    ENGINE_PRIVILEGES,
    ENGINE_ROLE,
    LEAST_ROLE_CONTROL,
    EngineAccess,
    read_engine_access,
    read_roles,
)
from securemode.vsphere.vmodl import fault_text, vim

HOST_AGENT = "HostAgent"
WANTED = sorted(ENGINE_PRIVILEGES)


def _engine_role_id(content: Any) -> int:
    """The role's id, read when the permission is set (the role may have been created a moment before)."""
    return next(r.role_id for r in read_roles(content).values() if r.name == ENGINE_ROLE)


def _set_root_permission(content: Any, account: str) -> None:
    root = content.rootFolder
    permission = vim.AuthorizationManager.Permission(entity=root, principal=account, group=False,
                                                     roleId=_engine_role_id(content), propagate=True)
    content.authorizationManager.SetEntityPermissions(entity=root, permission=[permission])


def plan_engine_role(content: Any, access: EngineAccess, target: str) -> list[Planned]:
    """Role first, then excess permissions elsewhere, the root permission last (see the module doc)."""
    manager = content.authorizationManager
    planned: list[Planned] = []
    role = access.engine_role
    if role is None:
        planned.append(Planned(action=partial(manager.AddAuthorizationRole, name=ENGINE_ROLE, privIds=WANTED),
                               changes=(change(LEAST_ROLE_CONTROL, target, f"role[{ENGINE_ROLE}].privileges",
                                               None, WANTED),)))
    elif role.privileges != ENGINE_PRIVILEGES:
        planned.append(Planned(action=partial(manager.UpdateAuthorizationRole, roleId=role.role_id,
                                              newName=ENGINE_ROLE, privIds=WANTED),
                               changes=(change(LEAST_ROLE_CONTROL, target, f"role[{ENGINE_ROLE}].privileges",
                                               sorted(role.privileges), WANTED),)))
    for perm in access.permissions:
        if perm.entity_ref == access.root or not (perm.role_id == ADMIN_ROLE_ID or perm.extra):
            continue
        planned.append(Planned(action=partial(manager.RemoveEntityPermission, entity=perm.entity_ref,
                                              user=access.account, isGroup=False),
                               changes=(change(LEAST_ROLE_CONTROL, target, f"permission[{perm.entity}]",
                                               perm.role_name, None),)))
    root = access.on_root()
    if root is None or root.role_name != ENGINE_ROLE or not root.propagate:
        planned.append(Planned(action=partial(_set_root_permission, content, access.account),
                               changes=(change(LEAST_ROLE_CONTROL, target, "permission[root folder]",
                                               root.role_name if root else None, ENGINE_ROLE),)))
    return planned


def _all_or_deferred(planned: list[Planned], account: str) -> object:
    """Run the role's actions in order; without the rights to (least privilege reached), defer all of them."""
    try:
        for item in planned:
            item.action()
    except vim.fault.NoPermission as exc:
        return Deferred(
            f"{LEAST_ROLE_CONTROL}: '{account}' may no longer change roles or permissions ({fault_text(exc)}); "
            f"fix: as a host administrator, give '{account}' the Admin role once, then run "
            "`securemode run --stage host`, which reduces it to the engine's role again")
    return None


def ensure_engine_role(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """The site's engine account holds exactly the engine role on the host's root folder."""
    site = ctx.site.site
    account = site.vsphere.username
    if account == ROOT_ACCOUNT:
        return plan_of(notes=[f"{LEAST_ROLE_CONTROL}: the engine logs in as root, whose Admin role it never "
                              "reduces; name a dedicated account as vsphere.username"])
    session = resources.enter_context(open_site_session(ctx.site))
    if session.api_type != HOST_AGENT:
        return plan_of(notes=[f"{LEAST_ROLE_CONTROL}: connected through vCenter; its administrators manage "
                              f"roles (give '{account}' a role with: {', '.join(WANTED)})"])
    content = session.content
    planned = plan_engine_role(content, read_engine_access(content, account), host_target(site))
    if not planned:
        return plan_of()
    return plan_of(Planned(action=partial(_all_or_deferred, planned, account),
                           changes=tuple(c for p in planned for c in p.changes)))
