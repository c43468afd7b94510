// securemode vcsim extension: lockdown mode (HostAccessManager, HostSystem.Enter/ExitLockdownMode).
// As on ESXi: the mode shows in host.config.lockdownMode and adminDisabled, strict lockdown stops
// the DCUI service, and while the host is locked down only exception users may log in directly.

package simulator

import (
	"sync"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// HostAccessManager holds the lockdown state of one host.
type HostAccessManager struct {
	mo.HostAccessManager

	host        *mo.HostSystem
	mu          sync.Mutex // guards exceptions: read by logins outside the object lock
	exceptions  []string
	systemUsers []string
}

var (
	extAccessMu       sync.Mutex
	extAccessManagers []*HostAccessManager
)

func extNewHostAccessManager(host *mo.HostSystem) *HostAccessManager {
	m := &HostAccessManager{host: host}
	m.Self = extHostRef("HostAccessManager", "ha-host-access-manager")
	m.LockdownMode = types.HostLockdownModeLockdownDisabled
	host.Config.LockdownMode = m.LockdownMode
	extAccessMu.Lock()
	extAccessManagers = append(extAccessManagers, m)
	extAccessMu.Unlock()
	return m
}

// extLoginAllowed is called by SessionManager.validLogin (patched). In ESX mode the login goes
// to the host itself, so a locked-down host refuses every user that is not an exception.
func extLoginAllowed(user string) bool {
	if !Ext.LockdownLogins || !Map.IsESX() {
		return true
	}
	extAccessMu.Lock()
	managers := append([]*HostAccessManager(nil), extAccessManagers...)
	extAccessMu.Unlock()
	for _, m := range managers {
		if !m.allows(user) {
			return false
		}
	}
	return true
}

func (m *HostAccessManager) allows(user string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.LockdownMode == types.HostLockdownModeLockdownDisabled || m.LockdownMode == "" {
		return true
	}
	for _, u := range m.exceptions {
		if u == user {
			return true
		}
	}
	return false
}

// setMode applies a lockdown mode to the manager, the host config and the DCUI service.
func (m *HostAccessManager) setMode(mode types.HostLockdownMode) {
	m.mu.Lock()
	m.LockdownMode = mode
	m.mu.Unlock()
	locked := mode != types.HostLockdownModeLockdownDisabled
	m.host.Config.LockdownMode = mode
	m.host.Config.AdminDisabled = types.NewBool(locked)
	extNotify(m, "lockdownMode")
	extNotify(extHostOf(m.host), "config.lockdownMode", "config.adminDisabled")
	if ref := m.host.ConfigManager.ServiceSystem; ref != nil {
		if svc, ok := Map.Get(*ref).(*HostServiceSystem); ok {
			svc.lockdownChanged(mode)
		}
	}
}

// lockdownChanged stops DCUI in strict lockdown and brings it back (if its policy is on) after.
func (s *HostServiceSystem) lockdownChanged(mode types.HostLockdownMode) {
	dcui := s.find("DCUI")
	if dcui == nil {
		return
	}
	running := mode != types.HostLockdownModeLockdownStrict && dcui.Policy == string(types.HostServicePolicyOn)
	if dcui.Running != running {
		dcui.Running = running
		s.changed()
	}
}

func (m *HostAccessManager) ChangeLockdownMode(req *types.ChangeLockdownMode) soap.HasFault {
	body := &methods.ChangeLockdownModeBody{}
	switch req.Mode {
	case types.HostLockdownModeLockdownDisabled, types.HostLockdownModeLockdownNormal,
		types.HostLockdownModeLockdownStrict:
	default:
		body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "mode"})
		return body
	}
	m.setMode(req.Mode)
	body.Res = &types.ChangeLockdownModeResponse{}
	return body
}

func (m *HostAccessManager) QueryLockdownExceptions(req *types.QueryLockdownExceptions) soap.HasFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &methods.QueryLockdownExceptionsBody{
		Res: &types.QueryLockdownExceptionsResponse{Returnval: append([]string(nil), m.exceptions...)},
	}
}

func (m *HostAccessManager) UpdateLockdownExceptions(req *types.UpdateLockdownExceptions) soap.HasFault {
	body := &methods.UpdateLockdownExceptionsBody{}
	for _, user := range req.Users {
		if user == "" {
			body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "users"})
			return body
		}
	}
	m.mu.Lock()
	m.exceptions = append([]string(nil), req.Users...)
	m.mu.Unlock()
	body.Res = &types.UpdateLockdownExceptionsResponse{}
	return body
}

func (m *HostAccessManager) QuerySystemUsers(req *types.QuerySystemUsers) soap.HasFault {
	return &methods.QuerySystemUsersBody{
		Res: &types.QuerySystemUsersResponse{Returnval: append([]string(nil), m.systemUsers...)},
	}
}

func (m *HostAccessManager) UpdateSystemUsers(req *types.UpdateSystemUsers) soap.HasFault {
	m.systemUsers = append([]string(nil), req.Users...)
	return &methods.UpdateSystemUsersBody{Res: &types.UpdateSystemUsersResponse{}}
}

// accessManager returns the HostAccessManager of a host.
func (h *HostSystem) accessManager() *HostAccessManager {
	if ref := h.ConfigManager.HostAccessManager; ref != nil {
		if m, ok := Map.Get(*ref).(*HostAccessManager); ok {
			return m
		}
	}
	return nil
}

// lockdownCall implements the deprecated HostSystem lockdown methods. The API reference says they
// fail with DisableAdminNotSupported when invoked directly on the host, so they only work through
// vCenter (VPX mode).
func (h *HostSystem) lockdownCall(mode types.HostLockdownMode) *soap.Fault {
	if Map.IsESX() {
		return Fault("invoked directly on the host", &types.DisableAdminNotSupported{})
	}
	m := h.accessManager()
	if m == nil {
		return Fault("", &types.NotSupported{})
	}
	Map.WithLock(m, func() { m.setMode(mode) })
	return nil
}

func (h *HostSystem) EnterLockdownMode(req *types.EnterLockdownMode) soap.HasFault {
	body := &methods.EnterLockdownModeBody{}
	if body.Fault_ = h.lockdownCall(types.HostLockdownModeLockdownNormal); body.Fault_ == nil {
		body.Res = &types.EnterLockdownModeResponse{}
	}
	return body
}

func (h *HostSystem) ExitLockdownMode(req *types.ExitLockdownMode) soap.HasFault {
	body := &methods.ExitLockdownModeBody{}
	if body.Fault_ = h.lockdownCall(types.HostLockdownModeLockdownDisabled); body.Fault_ == nil {
		body.Res = &types.ExitLockdownModeResponse{}
	}
	return body
}
