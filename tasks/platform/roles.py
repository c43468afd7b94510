"""Account roles (guide: Account roles): Read-only and Read-write lose "May view logs" and "May generate
system snapshot"; an Auditor role holds exactly its five permissions."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.pexip.errors import PexipError
from securemode.pexip.models import Permission, Role, RoleWrite

AUDITOR_CONTROL = "platform.role.auditor"


def read_roles(api: ManagementApi) -> dict[str, Role]:
    return {role.name: role for role in api.list_objects(Role, "role")}


def read_permissions(api: ManagementApi) -> dict[str, Permission]:
    return {p.name: p for p in api.list_objects(Permission, "permission")}


def _uris(permissions: dict[str, Permission], names: list[str]) -> list[str]:
    missing = [n for n in names if n not in permissions]
    if missing:
        raise PexipError(f"the Management Node has no permission named {', '.join(map(repr, missing))}")
    return [permissions[n].resource_uri for n in names]


def _write_auditor(api: ManagementApi, auditor: Role | None, perms: dict[str, Permission], wanted: list[str]) -> None:
    """Create the Auditor role or set its permissions (a permission the node lacks is an error, on apply)."""
    body = RoleWrite(name=desired.AUDITOR, permissions=_uris(perms, wanted)).body()
    if auditor is None:
        api.create("role", body)
    else:
        api.patch(auditor.resource_uri, {"permissions": body["permissions"]})


def plan_roles(api: ManagementApi, roles: dict[str, Role], perms: dict[str, Permission]) -> list[Planned]:
    """Trim the built-in roles (one PATCH each), then make the Auditor role hold exactly its permissions."""
    planned: list[Planned] = []
    for role_name in desired.ROLES_TRIMMED:
        role = roles.get(role_name)
        if role is None:
            raise PexipError(f"the built-in role {role_name!r} is missing on the Management Node")
        extra = [p for p in desired.removed_permissions() if p in role.permission_names]
        if not extra:
            continue
        keep = [p.resource_uri for p in role.permissions if p.name not in extra]
        planned.append(Planned(action=partial(api.patch, role.resource_uri, {"permissions": keep}), changes=tuple(
            Change(control=desired.role_removal_control(role_name, perm), target=desired.PLATFORM_TARGET,
                   setting=f"role[{role_name}].permissions", current=f"has '{perm}'", desired=f"no '{perm}'")
            for perm in extra)))
    wanted = sorted(desired.auditor_permissions())
    auditor = roles.get(desired.AUDITOR)
    current = auditor.permission_names if auditor else None
    if current != wanted:
        planned.append(Planned(action=partial(_write_auditor, api, auditor, perms, wanted), changes=(
            Change(control=AUDITOR_CONTROL, target=desired.PLATFORM_TARGET, setting="role[Auditor].permissions",
                   current=current, desired=wanted),)))
    return planned


def ensure_roles(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_roles(api, read_roles(api), read_permissions(api)))
