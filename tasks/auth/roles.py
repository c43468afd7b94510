"""LDAP group → account role mapping (guide: LDAP group to role mapping): one ``ldap_role`` per group the
site names, holding exactly the site's roles for it; every account role mapped to at least one group.

Refused before anything is written: a group the directory does not have (the refusal lists the groups it
has) and a mapping that leaves a role unmapped. A mapping on the node for a group the site does not name
is deleted: it would give that group's members a role nobody asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.site import Role, Site
from securemode.targets import PLATFORM_TARGET
from securemode.tasks.auth.directory import DirectoryUnavailable, directory_groups, norm_dn

CONTROL = "auth.ldap-roles"
MAX_NAME = 250


def unmapped_roles(site: Site) -> list[str]:
    mapped = {role for roles in site.ldap.group_roles.values() for role in roles}
    return [role.value for role in Role if role not in mapped]


def unknown_groups(site: Site, known: list[str]) -> list[str]:
    have = {norm_dn(dn) for dn in known}
    return [dn for dn in site.ldap.group_roles if norm_dn(dn) not in have]


def refusal(site: Site, known: list[str]) -> str | None:
    """Why the site's mapping must not be written, or None."""
    missing = unmapped_roles(site)
    if missing:
        return f"role(s) {', '.join(missing)} mapped to no LDAP group: nobody could hold them after the cut-over"
    unknown = unknown_groups(site, known)
    if unknown:
        return (
            f"the LDAP server has no group {', '.join(map(repr, unknown))}; "
            f"the groups it has: {', '.join(known) or 'none'}"
        )
    return None


def mapping_name(group_dn: str) -> str:
    """The ldap_role's name: the group's own name (the value of its first RDN)."""
    first = group_dn.split(",", 1)[0]
    return first.split("=", 1)[-1].strip()[:MAX_NAME] or group_dn[:MAX_NAME]


def plan_mappings(
    site: Site, current: list[dict[str, Any]], role_uris: dict[str, str], api: ManagementApi
) -> list[Planned]:
    """Create or correct one mapping per site group; delete mappings of groups the site does not name."""
    by_group = {norm_dn(str(m.get("ldap_group_dn", ""))): m for m in current}
    wanted_groups = {norm_dn(dn) for dn in site.ldap.group_roles}
    planned: list[Planned] = []
    for group_dn, roles in site.ldap.group_roles.items():
        names = sorted({r.value for r in roles})
        uris = [role_uris[n] for n in names]
        have = by_group.get(norm_dn(group_dn))
        held = {r.get("resource_uri") if isinstance(r, dict) else r for r in have.get("roles", [])} if have else set()
        have_names = sorted(n for n, u in role_uris.items() if u in held) if have else None
        action: Callable[[], object]
        if have is None:
            body = {"name": mapping_name(group_dn), "ldap_group_dn": group_dn, "roles": uris}
            action = partial(api.create, "ldap_role", body)
        elif have_names != names:
            action = partial(api.patch, str(have["resource_uri"]), {"roles": uris})
        else:
            continue
        planned.append(
            Planned(
                action=action,
                changes=(
                    Change(
                        control=CONTROL,
                        target=PLATFORM_TARGET,
                        setting=f"ldap_role[{group_dn}].roles",
                        current=have_names,
                        desired=names,
                    ),
                ),
            )
        )
    for key, mapping in by_group.items():
        if key not in wanted_groups:
            planned.append(
                Planned(
                    action=partial(api.delete, str(mapping["resource_uri"])),
                    changes=(
                        Change(
                            control=CONTROL,
                            target=PLATFORM_TARGET,
                            setting=f"ldap_role[{mapping.get('ldap_group_dn')}]",
                            current=mapping.get("name"),
                            desired="absent (the site does not map this group)",
                        ),
                    ),
                )
            )
    return planned


def ensure_ldap_roles(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    site = ctx.site.site
    try:
        known = directory_groups(ctx.site)
    except DirectoryUnavailable as exc:
        return plan_of(blocked=f"the groups cannot be checked against the LDAP server: {exc}")
    why = refusal(site, known)
    if why is not None:
        return plan_of(blocked=why)
    api = resources.enter_context(management_api(ctx.site))
    role_uris = {str(r["name"]): str(r["resource_uri"]) for r in api.iter_objects("role")}
    absent = [r.value for r in Role if r.value not in role_uris]
    if absent and ctx.apply:
        return plan_of(blocked=f"the Management Node has no role {', '.join(absent)} (the platform stage makes them)")
    role_uris |= {name: f"(role {name}, made by the platform stage)" for name in absent}  # a plan only
    return plan_of(*plan_mappings(site, list(api.iter_objects("ldap_role")), role_uris, api))
