// securemode vcsim extension: HostServiceSystem (stock 0.24.2 has none).
// Behaviour follows the vSphere API reference for HostServiceSystem: unknown keys give NotFound,
// a policy outside on/off/automatic gives InvalidArgument, and host.config.service mirrors
// serviceInfo.

package simulator

import (
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// HostServiceSystem manages the services of one host.
type HostServiceSystem struct {
	mo.HostServiceSystem

	host *mo.HostSystem
}

// extExtraServices are ESXi services the 6.5 capture lacks but the STIG checks (slpd).
var extExtraServices = []types.HostService{
	{Key: "slpd", Label: "slpd", Running: true, Policy: "on", Ruleset: []string{"CIMSLP"}},
}

func extNewHostServiceSystem(host *mo.HostSystem) *HostServiceSystem {
	s := &HostServiceSystem{host: host}
	s.Self = extHostRef("HostServiceSystem", "serviceSystem")
	if host.Config.Service != nil {
		deepCopy(host.Config.Service, &s.ServiceInfo)
	}
	for _, extra := range extExtraServices {
		if s.find(extra.Key) == nil {
			s.ServiceInfo.Service = append(s.ServiceInfo.Service, extra)
		}
	}
	host.Config.Service = &s.ServiceInfo // one copy: host.config.service always agrees
	return s
}

func (s *HostServiceSystem) find(id string) *types.HostService {
	for i := range s.ServiceInfo.Service {
		if s.ServiceInfo.Service[i].Key == id {
			return &s.ServiceInfo.Service[i]
		}
	}
	return nil
}

func (s *HostServiceSystem) changed() {
	extNotify(s, "serviceInfo")
	extNotify(extHostOf(s.host), "config.service")
}

// setRunning is the shared body of Start/Stop/Restart.
func (s *HostServiceSystem) setRunning(id string, running bool) *soap.Fault {
	svc := s.find(id)
	if svc == nil {
		return Fault("", &types.NotFound{})
	}
	if !running && svc.Required {
		return Fault("service is required", &types.InvalidState{})
	}
	svc.Running = running
	s.changed()
	return nil
}

func (s *HostServiceSystem) StartService(req *types.StartService) soap.HasFault {
	body := &methods.StartServiceBody{}
	if body.Fault_ = s.setRunning(req.Id, true); body.Fault_ == nil {
		body.Res = &types.StartServiceResponse{}
	}
	return body
}

func (s *HostServiceSystem) StopService(req *types.StopService) soap.HasFault {
	body := &methods.StopServiceBody{}
	if body.Fault_ = s.setRunning(req.Id, false); body.Fault_ == nil {
		body.Res = &types.StopServiceResponse{}
	}
	return body
}

func (s *HostServiceSystem) RestartService(req *types.RestartService) soap.HasFault {
	body := &methods.RestartServiceBody{}
	if body.Fault_ = s.setRunning(req.Id, true); body.Fault_ == nil {
		body.Res = &types.RestartServiceResponse{}
	}
	return body
}

func (s *HostServiceSystem) UpdateServicePolicy(req *types.UpdateServicePolicy) soap.HasFault {
	body := &methods.UpdateServicePolicyBody{}
	svc := s.find(req.Id)
	if svc == nil {
		body.Fault_ = Fault("", &types.NotFound{})
		return body
	}
	switch types.HostServicePolicy(req.Policy) {
	case types.HostServicePolicyOn, types.HostServicePolicyOff, types.HostServicePolicyAutomatic:
	default:
		body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "policy"})
		return body
	}
	svc.Policy = req.Policy
	s.changed()
	body.Res = &types.UpdateServicePolicyResponse{}
	return body
}

func (s *HostServiceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	return &methods.RefreshServicesBody{Res: &types.RefreshServicesResponse{}}
}
