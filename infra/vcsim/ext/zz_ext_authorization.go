package simulator

// securemode: permissions as ESXi keeps them. Upstream SetEntityPermissions replaced every permission
// on the entity with the request's (root's own Admin permission vanished), and AddAuthorizationRole
// answered no role id. Here a permission is set per principal (same principal and group kind:
// replaced; others kept) and the role id is returned. Privileges are stored and read back, never
// enforced: every session may still call every method.

import (
	"github.com/vmware/govmomi/vim25/types"
)

// extMergePermissions sets each requested permission on entity, replacing only the same principal's.
func extMergePermissions(have []types.Permission, entity types.ManagedObjectReference,
	set []types.Permission) []types.Permission {
	out := make([]types.Permission, 0, len(have)+len(set))
	for _, p := range have {
		replaced := false
		for _, n := range set {
			if n.Principal == p.Principal && n.Group == p.Group {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, p)
		}
	}
	for _, n := range set {
		e := entity
		n.Entity = &e
		out = append(out, n)
	}
	return out
}

// ExtGrantAdmin gives principal the Admin role on the root folder, propagating: the lab's engine
// account starts as a host administrator created it, before the engine reduces it to its least role.
func ExtGrantAdmin(principal string) {
	ref := Map.content().AuthorizationManager
	if ref == nil {
		return
	}
	m, ok := Map.Get(*ref).(*AuthorizationManager)
	if !ok {
		return
	}
	root := Map.content().RootFolder
	for _, p := range m.permissions[root] {
		if p.Principal == principal && !p.Group {
			return
		}
	}
	grant := []types.Permission{{Principal: principal, Group: false, RoleId: -1, Propagate: true}}
	Map.WithLock(m, func() { m.permissions[root] = extMergePermissions(m.permissions[root], root, grant) })
}
