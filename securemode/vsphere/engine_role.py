"""The engine account's least role on the ESXi host: the privileges its own API calls need, and nothing else.

After lockdown the engine's account is the host's only lockdown exception user, so it must hold no more
than the engine uses. ESXi grants rights through permissions (a principal bound to a role, a list of
privilege ids, on an inventory entity; on the root folder with ``propagate`` it covers the whole host).
:data:`ENGINE_PRIVILEGES` is derived from the calls in ``securemode.tasks.host``, ``securemode.tasks.vms`` and
``securemode.vsphere`` (required privileges as the vSphere API reference lists them); the role is
defined once here and both ``securemode.tasks.host.ensure_engine_role`` and the verifier use it.

Reads only; the changes live in ``securemode.tasks.host.engine_role``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENGINE_ROLE = "securemode-engine"
ADMIN_ROLE_ID = -1
LEAST_ROLE_CONTROL = "host.engine-account.least-role"

# privilege id → the engine's calls that need it (API reference, "Required Privileges").
PRIVILEGE_USES: dict[str, str] = {
    "System.Anonymous": "part of every role (ESXi adds it)",
    "System.View": "part of every role: RetrieveContent, container views, roleList, RetrieveAllPermissions",
    "System.Read": "part of every role: property reads for plan and verify, RetrieveEntityPermissions",
    "Host.Config.Network": "HostNetworkSystem.AddVirtualSwitch/UpdateVirtualSwitch/AddPortGroup/UpdatePortGroup",
    "Host.Config.AdvancedConfig": "OptionManager.UpdateOptions (the STIG advanced options)",
    "Host.Config.NetService": "HostServiceSystem.UpdateServicePolicy/StartService/StopService/RestartService",
    "Host.Config.DateTime": "HostDateTimeSystem.UpdateDateTimeConfig (NTP servers)",
    "Host.Config.Settings": "HostAccessManager.ChangeLockdownMode/UpdateLockdownExceptions (API 6.x-8.x)",
    "Global.Settings": "HostAccessManager.QueryLockdownExceptions/UpdateLockdownExceptions (API 8.0U3+ lists it)",
    "VApp.Import": "ResourcePool.ImportVApp (the Management Node's OVA)",
    "VirtualMachine.Inventory.Create": "ResourcePool.ImportVApp into the datacenter's VM folder",
    "Datastore.AllocateSpace": "ResourcePool.ImportVApp: the VM's disks on the site's datastore",
    "Network.Assign": "ResourcePool.ImportVApp and ReconfigVM_Task: NIC on the site's port group",
    "VirtualMachine.Config.CPUCount": "ReconfigVM_Task numCPUs (size while powered off)",
    "VirtualMachine.Config.Memory": "ReconfigVM_Task memoryMB (size while powered off)",
    "VirtualMachine.Config.EditDevice": "ReconfigVM_Task deviceChange edit (NIC backing, disk IOPS limit)",
    "VirtualMachine.Config.Resource": "ReconfigVM_Task cpu/memoryAllocation, memoryReservationLockedToMax, "
                                      "disk storageIOAllocation",
    "VirtualMachine.Config.Settings": "ReconfigVM_Task bootOptions (boot order, enter BIOS setup)",
}
ENGINE_PRIVILEGES: frozenset[str] = frozenset(PRIVILEGE_USES)


@dataclass(frozen=True)
class RoleState:
    role_id: int
    name: str
    privileges: frozenset[str]


@dataclass(frozen=True)
class PermissionState:
    """One permission of the account: where, which role, and the privileges that role grants."""

    entity: str
    entity_ref: Any
    role_id: int
    role_name: str
    privileges: frozenset[str]
    propagate: bool

    @property
    def extra(self) -> list[str]:
        """Privileges beyond the engine's set (Admin is everything: reported as its role)."""
        return sorted(self.privileges - ENGINE_PRIVILEGES)


@dataclass(frozen=True)
class EngineAccess:
    """The account's user permissions on the host, the engine role (if any) and the inventory root."""

    account: str
    permissions: tuple[PermissionState, ...]
    engine_role: RoleState | None
    root: Any

    def on_root(self) -> PermissionState | None:
        return next((p for p in self.permissions if p.entity_ref == self.root), None)


def _entity_name(entity: Any) -> str:
    try:
        return f"{entity.name} ({entity._moId})"
    except Exception:  # an entity the account may not read: its id is enough
        return str(getattr(entity, "_moId", entity))


def read_roles(content: Any) -> dict[int, RoleState]:
    return {int(r.roleId): RoleState(role_id=int(r.roleId), name=str(r.name), privileges=frozenset(r.privilege or []))
            for r in content.authorizationManager.roleList or []}


def read_engine_access(content: Any, account: str) -> EngineAccess:
    """Every permission granted to the user ``account`` (not groups) anywhere on the host, with its role."""
    manager = content.authorizationManager
    roles = read_roles(content)
    mine = [p for p in manager.RetrieveAllPermissions() or [] if not p.group and p.principal == account]
    permissions = []
    for perm in sorted(mine, key=lambda p: str(p.entity._moId)):
        role = roles.get(int(perm.roleId))
        permissions.append(PermissionState(
            entity=_entity_name(perm.entity), entity_ref=perm.entity, role_id=int(perm.roleId),
            role_name=role.name if role else f"unknown role {perm.roleId}",
            privileges=role.privileges if role else frozenset({f"<unknown role {perm.roleId}>"}),
            propagate=bool(perm.propagate)))
    engine_role = next((r for r in roles.values() if r.name == ENGINE_ROLE), None)
    return EngineAccess(account=account, permissions=tuple(permissions), engine_role=engine_role,
                        root=content.rootFolder)


def least_role_problems(access: EngineAccess) -> list[str]:
    """Why the account's rights are not exactly the engine's role on the root; empty when they are."""
    problems = []
    for perm in access.permissions:
        if perm.role_id == ADMIN_ROLE_ID:
            problems.append(f"'{access.account}' holds the Admin role on {perm.entity}")
        elif perm.extra:
            problems.append(f"'{access.account}' holds role '{perm.role_name}' on {perm.entity} with privileges "
                            f"beyond the engine's: {', '.join(perm.extra)}")
    root = access.on_root()
    if root is None:
        problems.append(f"'{access.account}' has no permission on the host's root folder "
                        f"(expected role '{ENGINE_ROLE}', propagating)")
    elif not problems and (root.role_name != ENGINE_ROLE or not root.propagate):
        problems.append(f"'{access.account}' holds role '{root.role_name}' on {root.entity}"
                        f"{'' if root.propagate else ' without propagation'}, not '{ENGINE_ROLE}' (propagating)")
    elif not problems and ENGINE_PRIVILEGES - root.privileges:
        problems.append(f"role '{ENGINE_ROLE}' lacks privileges the engine uses: "
                        f"{', '.join(sorted(ENGINE_PRIVILEGES - root.privileges))}")
    return problems


def observed_access(access: EngineAccess) -> list[dict[str, object]]:
    """The evidence: each permission as plain values."""
    return [{"entity": p.entity, "role": p.role_name, "role_id": p.role_id, "propagate": p.propagate,
             "extra_privileges": ["<all: Admin>"] if p.role_id == ADMIN_ROLE_ID else p.extra}
            for p in access.permissions]
