"""AuthorizationManager in vcsim-ext: roles and permissions persist and read back as on ESXi.

Privileges are stored, never enforced (every session may still call every method): these tests prove
the read-back the engine's least-role step and verifier rely on, nothing more.
"""

from __future__ import annotations

from typing import Any

from pyVmomi import vim

from securemode.infra.vcsim import Vcsim


def _mine(content: Any, principal: str) -> list[Any]:
    return [p for p in content.authorizationManager.RetrieveAllPermissions() if p.principal == principal
            and not p.group]


def test_the_launchers_account_starts_as_a_host_administrator(vcsim: Vcsim, vcsim_si: Any) -> None:
    content = vcsim_si.RetrieveContent()
    [perm] = _mine(content, vcsim.username)
    assert vcsim.username != "root"
    assert perm.roleId == -1 and perm.propagate and perm.entity == content.rootFolder


def test_a_new_role_answers_its_id_and_reads_back(vcsim_si: Any) -> None:
    manager = vcsim_si.RetrieveContent().authorizationManager
    first = manager.AddAuthorizationRole(name="t-first", privIds=["Host.Config.DateTime"])
    second = manager.AddAuthorizationRole(name="t-second", privIds=["Host.Config.Network"])
    roles = {r.name: r for r in manager.roleList}
    assert roles["t-first"].roleId == first and roles["t-second"].roleId == second and first != second
    assert "Host.Config.Network" in roles["t-second"].privilege
    manager.UpdateAuthorizationRole(roleId=second, newName="t-second", privIds=["VApp.Import"])
    privileges = {r.name: set(r.privilege) for r in manager.roleList}["t-second"]
    assert "VApp.Import" in privileges and "Host.Config.Network" not in privileges


def test_setting_one_principals_permission_keeps_everyone_elses(vcsim: Vcsim, vcsim_si: Any) -> None:
    content = vcsim_si.RetrieveContent()
    manager, root = content.authorizationManager, content.rootFolder
    role = manager.AddAuthorizationRole(name="t-perm", privIds=["Host.Config.DateTime"])
    before = {(p.principal, p.group, p.roleId) for p in manager.RetrieveEntityPermissions(root, False)}
    assert ("root", False, -1) in before
    manager.SetEntityPermissions(entity=root, permission=[vim.AuthorizationManager.Permission(
        principal="t-user", group=False, roleId=role, propagate=True)])
    after = {(p.principal, p.group, p.roleId) for p in manager.RetrieveEntityPermissions(root, False)}
    assert after == before | {("t-user", False, role)}
    manager.SetEntityPermissions(entity=root, permission=[vim.AuthorizationManager.Permission(
        principal="t-user", group=False, roleId=-2, propagate=True)])
    [perm] = _mine(content, "t-user")
    assert perm.roleId == -2 and perm.entity == root
    manager.RemoveEntityPermission(entity=root, user="t-user", isGroup=False)
    assert _mine(content, "t-user") == []
    assert ("root", False, -1) in {(p.principal, p.group, p.roleId) for p in manager.RetrieveAllPermissions()}
