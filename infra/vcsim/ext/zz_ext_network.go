// securemode vcsim extension: standard vSwitches and port groups as ESXi keeps them.
// networkSystem.networkInfo and host.config.network are one object, so they always agree;
// vSwitch.portgroup holds port group keys and vSwitch.pnic holds pNIC keys, as on ESXi.
// Faults follow the API reference: AlreadyExists, NotFound, ResourceInUse (a pNIC bridged by
// another vSwitch, a port group with a VMkernel NIC), InvalidArgument (VLAN outside 0-4095).

package simulator

import (
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	extVswitchKeyPrefix   = "key-vim.host.VirtualSwitch-"
	extPortgroupKeyPrefix = "key-vim.host.PortGroup-"
	extPnicKeyPrefix      = "key-vim.host.PhysicalNic-"
)

// hostNetworkSystem replaces the stock methods that only kept a partial, separate copy.
type hostNetworkSystem struct {
	HostNetworkSystem
}

func extNewHostNetworkSystem(host *mo.HostSystem) *hostNetworkSystem {
	s := &hostNetworkSystem{HostNetworkSystem{Host: host}}
	s.Self.Type = "HostNetworkSystem"
	s.NetworkInfo = host.Config.Network
	s.Capabilities = host.Config.Capabilities
	return s
}

func (s *hostNetworkSystem) changed() {
	extNotify(s, "networkInfo")
	extNotify(extHostOf(s.Host), "config.network")
}

func (s *hostNetworkSystem) vswitch(name string) *types.HostVirtualSwitch {
	for i := range s.NetworkInfo.Vswitch {
		if s.NetworkInfo.Vswitch[i].Name == name {
			return &s.NetworkInfo.Vswitch[i]
		}
	}
	return nil
}

func (s *hostNetworkSystem) portgroup(name string) *types.HostPortGroup {
	for i := range s.NetworkInfo.Portgroup {
		if s.NetworkInfo.Portgroup[i].Spec.Name == name {
			return &s.NetworkInfo.Portgroup[i]
		}
	}
	return nil
}

// bridgeNics returns the pNIC devices a vSwitch spec bridges.
func bridgeNics(spec *types.HostVirtualSwitchSpec) []string {
	switch b := spec.Bridge.(type) {
	case *types.HostVirtualSwitchBondBridge:
		return b.NicDevice
	case *types.HostVirtualSwitchSimpleBridge:
		return []string{b.NicDevice}
	}
	return nil
}

// checkBridge refuses pNICs that do not exist or that another vSwitch already uses.
func (s *hostNetworkSystem) checkBridge(name string, spec *types.HostVirtualSwitchSpec) types.BaseMethodFault {
	for _, dev := range bridgeNics(spec) {
		found := false
		for _, nic := range s.NetworkInfo.Pnic {
			found = found || nic.Device == dev
		}
		if !found {
			return &types.NotFound{}
		}
		for _, vs := range s.NetworkInfo.Vswitch {
			if vs.Name == name {
				continue
			}
			for _, key := range vs.Pnic {
				if key == extPnicKeyPrefix+dev {
					return &types.ResourceInUse{Type: "PhysicalNic", Name: dev}
				}
			}
		}
	}
	if spec.Mtu != 0 && (spec.Mtu < 1280 || spec.Mtu > 9000) {
		return &types.InvalidArgument{InvalidProperty: "spec.mtu"}
	}
	return nil
}

// mergePolicy overlays the set parts of a policy on a base, field by field for security.
func mergePolicy(base types.HostNetworkPolicy, over *types.HostNetworkPolicy) types.HostNetworkPolicy {
	out := types.HostNetworkPolicy{}
	deepCopy(&base, &out)
	if over == nil {
		return out
	}
	if over.Security != nil {
		sec := types.HostNetworkSecurityPolicy{}
		if out.Security != nil {
			sec = *out.Security
		}
		if over.Security.AllowPromiscuous != nil {
			sec.AllowPromiscuous = types.NewBool(*over.Security.AllowPromiscuous)
		}
		if over.Security.MacChanges != nil {
			sec.MacChanges = types.NewBool(*over.Security.MacChanges)
		}
		if over.Security.ForgedTransmits != nil {
			sec.ForgedTransmits = types.NewBool(*over.Security.ForgedTransmits)
		}
		out.Security = &sec
	}
	if over.NicTeaming != nil && over.NicTeaming.Policy != "" {
		out.NicTeaming = over.NicTeaming
	}
	if over.OffloadPolicy != nil && over.OffloadPolicy.CsumOffload != nil {
		out.OffloadPolicy = over.OffloadPolicy
	}
	if over.ShapingPolicy != nil && over.ShapingPolicy.Enabled != nil {
		out.ShapingPolicy = over.ShapingPolicy
	}
	return out
}

// recompute refreshes computedPolicy and the vSwitch link of every port group.
func (s *hostNetworkSystem) recompute() {
	for i := range s.NetworkInfo.Portgroup {
		pg := &s.NetworkInfo.Portgroup[i]
		vs := s.vswitch(pg.Spec.VswitchName)
		if vs == nil {
			continue
		}
		pg.Vswitch = vs.Key
		base := types.HostNetworkPolicy{}
		if vs.Spec.Policy != nil {
			base = *vs.Spec.Policy
		}
		pg.ComputedPolicy = mergePolicy(base, &pg.Spec.Policy)
	}
}

func (s *hostNetworkSystem) AddVirtualSwitch(req *types.AddVirtualSwitch) soap.HasFault {
	body := &methods.AddVirtualSwitchBody{}
	if req.VswitchName == "" || len(req.VswitchName) > 32 {
		body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "vswitchName"})
		return body
	}
	if s.vswitch(req.VswitchName) != nil {
		body.Fault_ = Fault("", &types.AlreadyExists{Name: req.VswitchName})
		return body
	}
	spec := types.HostVirtualSwitchSpec{NumPorts: 128}
	if req.Spec != nil {
		spec = *req.Spec
	}
	if fault := s.checkBridge(req.VswitchName, &spec); fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	template := esxDefaultVswitchPolicy()
	policy := mergePolicy(template, spec.Policy)
	spec.Policy = &policy
	vs := types.HostVirtualSwitch{Name: req.VswitchName, Key: extVswitchKeyPrefix + req.VswitchName}
	s.applyVswitchSpec(&vs, spec)
	s.NetworkInfo.Vswitch = append(s.NetworkInfo.Vswitch, vs)
	s.changed()
	body.Res = &types.AddVirtualSwitchResponse{}
	return body
}

// esxDefaultVswitchPolicy is the policy ESXi gives a new standard vSwitch (as on vSwitch0).
func esxDefaultVswitchPolicy() types.HostNetworkPolicy {
	return types.HostNetworkPolicy{
		Security: &types.HostNetworkSecurityPolicy{
			AllowPromiscuous: types.NewBool(false),
			MacChanges:       types.NewBool(true),
			ForgedTransmits:  types.NewBool(true),
		},
		NicTeaming: &types.HostNicTeamingPolicy{Policy: "loadbalance_srcid",
			NotifySwitches: types.NewBool(true), ReversePolicy: types.NewBool(true), RollingOrder: types.NewBool(false)},
		OffloadPolicy: &types.HostNetOffloadCapabilities{},
		ShapingPolicy: &types.HostNetworkTrafficShapingPolicy{Enabled: types.NewBool(false)},
	}
}

func (s *hostNetworkSystem) applyVswitchSpec(vs *types.HostVirtualSwitch, spec types.HostVirtualSwitchSpec) {
	if spec.NumPorts == 0 {
		spec.NumPorts = vs.Spec.NumPorts
	}
	vs.Spec = spec
	vs.NumPorts = spec.NumPorts
	vs.NumPortsAvailable = spec.NumPorts
	vs.Mtu = spec.Mtu
	if vs.Mtu == 0 {
		vs.Mtu = 1500
	}
	vs.Pnic = nil
	for _, dev := range bridgeNics(&spec) {
		vs.Pnic = append(vs.Pnic, extPnicKeyPrefix+dev)
	}
	s.recompute()
}

func (s *hostNetworkSystem) UpdateVirtualSwitch(req *types.UpdateVirtualSwitch) soap.HasFault {
	body := &methods.UpdateVirtualSwitchBody{}
	vs := s.vswitch(req.VswitchName)
	if vs == nil {
		body.Fault_ = Fault("", &types.NotFound{})
		return body
	}
	spec := req.Spec
	if spec.Bridge == nil {
		spec.Bridge = vs.Spec.Bridge
	}
	if fault := s.checkBridge(req.VswitchName, &spec); fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	base := types.HostNetworkPolicy{}
	if vs.Spec.Policy != nil {
		base = *vs.Spec.Policy
	}
	policy := mergePolicy(base, spec.Policy)
	spec.Policy = &policy
	s.applyVswitchSpec(vs, spec)
	s.changed()
	body.Res = &types.UpdateVirtualSwitchResponse{}
	return body
}

func (s *hostNetworkSystem) RemoveVirtualSwitch(ctx *Context, req *types.RemoveVirtualSwitch) soap.HasFault {
	body := &methods.RemoveVirtualSwitchBody{}
	vs := s.vswitch(req.VswitchName)
	if vs == nil {
		body.Fault_ = Fault("", &types.NotFound{})
		return body
	}
	var names []string
	for _, pg := range s.NetworkInfo.Portgroup {
		if pg.Spec.VswitchName == req.VswitchName {
			if s.vnicOn(pg.Spec.Name) {
				body.Fault_ = Fault("", &types.ResourceInUse{Type: "HostPortGroup", Name: pg.Spec.Name})
				return body
			}
			names = append(names, pg.Spec.Name)
		}
	}
	for _, name := range names {
		s.dropPortgroup(ctx, name)
	}
	list := s.NetworkInfo.Vswitch[:0]
	for _, v := range s.NetworkInfo.Vswitch {
		if v.Name != req.VswitchName {
			list = append(list, v)
		}
	}
	s.NetworkInfo.Vswitch = list
	s.changed()
	body.Res = &types.RemoveVirtualSwitchResponse{}
	return body
}

func extValidVlan(id int32) bool { return id >= 0 && id <= 4095 }

func (s *hostNetworkSystem) AddPortGroup(ctx *Context, req *types.AddPortGroup) soap.HasFault {
	body := &methods.AddPortGroupBody{}
	spec := req.Portgrp
	switch {
	case spec.Name == "":
		body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "portgrp.name"})
	case !extValidVlan(spec.VlanId):
		body.Fault_ = Fault("VLAN ID must be 0-4095", &types.InvalidArgument{InvalidProperty: "portgrp.vlanId"})
	case s.portgroup(spec.Name) != nil:
		body.Fault_ = Fault("", &types.AlreadyExists{Name: spec.Name})
	case s.vswitch(spec.VswitchName) == nil:
		body.Fault_ = Fault("", &types.NotFound{})
	}
	if body.Fault_ != nil {
		return body
	}
	vs := s.vswitch(spec.VswitchName)
	key := extPortgroupKeyPrefix + spec.Name
	vs.Portgroup = append(vs.Portgroup, key)
	s.NetworkInfo.Portgroup = append(s.NetworkInfo.Portgroup, types.HostPortGroup{Key: key, Spec: spec})
	s.recompute()
	s.ensureNetwork(ctx, spec.Name)
	s.changed()
	body.Res = &types.AddPortGroupResponse{}
	return body
}

// ensureNetwork creates the Network entity a VM NIC can be attached to, as stock vcsim does.
func (s *hostNetworkSystem) ensureNetwork(ctx *Context, name string) {
	folder := s.folder()
	e := Map.FindByName(name, folder.ChildEntity)
	if e == nil {
		network := &mo.Network{}
		network.Name = name
		folderPutChild(ctx, &folder.Folder, network)
		e = network
	}
	if FindReference(s.Host.Network, e.Reference()) == nil {
		s.Host.Network = append(s.Host.Network, e.Reference())
		extNotify(extHostOf(s.Host), "network")
	}
}

func (s *hostNetworkSystem) vnicOn(pgName string) bool {
	for _, vnic := range s.NetworkInfo.Vnic {
		if vnic.Portgroup == pgName {
			return true
		}
	}
	return false
}

// dropPortgroup removes a port group from its vSwitch, the list and the network folder.
func (s *hostNetworkSystem) dropPortgroup(ctx *Context, name string) {
	key := extPortgroupKeyPrefix + name
	for i := range s.NetworkInfo.Vswitch {
		s.NetworkInfo.Vswitch[i].Portgroup = extWithout(s.NetworkInfo.Vswitch[i].Portgroup, key)
	}
	list := s.NetworkInfo.Portgroup[:0]
	for _, pg := range s.NetworkInfo.Portgroup {
		if pg.Spec.Name != name {
			list = append(list, pg)
		}
	}
	s.NetworkInfo.Portgroup = list
	folder := s.folder()
	if e := Map.FindByName(name, folder.ChildEntity); e != nil {
		if n, ok := e.(*mo.Network); ok && len(n.Vm) == 0 {
			RemoveReference(&s.Host.Network, e.Reference())
			folderRemoveChild(ctx, &folder.Folder, e.Reference())
			extNotify(extHostOf(s.Host), "network")
		}
	}
}

func extWithout(list []string, item string) []string {
	out := list[:0]
	for _, v := range list {
		if v != item {
			out = append(out, v)
		}
	}
	return out
}

func (s *hostNetworkSystem) RemovePortGroup(ctx *Context, req *types.RemovePortGroup) soap.HasFault {
	body := &methods.RemovePortGroupBody{}
	if s.portgroup(req.PgName) == nil {
		body.Fault_ = Fault("", &types.NotFound{})
		return body
	}
	if s.vnicOn(req.PgName) {
		body.Fault_ = Fault("", &types.ResourceInUse{Type: "HostPortGroup", Name: req.PgName})
		return body
	}
	s.dropPortgroup(ctx, req.PgName)
	s.changed()
	body.Res = &types.RemovePortGroupResponse{}
	return body
}

// UpdatePortGroup replaces the spec of a port group (VLAN, vSwitch, policy overrides, name).
func (s *hostNetworkSystem) UpdatePortGroup(ctx *Context, req *types.UpdatePortGroup) soap.HasFault {
	body := &methods.UpdatePortGroupBody{}
	spec := req.Portgrp
	pg := s.portgroup(req.PgName)
	switch {
	case pg == nil:
		body.Fault_ = Fault("", &types.NotFound{})
	case !extValidVlan(spec.VlanId):
		body.Fault_ = Fault("VLAN ID must be 0-4095", &types.InvalidArgument{InvalidProperty: "portgrp.vlanId"})
	case spec.Name == "":
		body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "portgrp.name"})
	case spec.Name != req.PgName && s.portgroup(spec.Name) != nil:
		body.Fault_ = Fault("", &types.AlreadyExists{Name: spec.Name})
	case spec.VswitchName != "" && s.vswitch(spec.VswitchName) == nil:
		body.Fault_ = Fault("", &types.NotFound{})
	}
	if body.Fault_ != nil {
		return body
	}
	if spec.VswitchName == "" {
		spec.VswitchName = pg.Spec.VswitchName
	}
	oldKey, newKey := pg.Key, extPortgroupKeyPrefix+spec.Name
	if spec.VswitchName != pg.Spec.VswitchName || oldKey != newKey {
		for i := range s.NetworkInfo.Vswitch {
			s.NetworkInfo.Vswitch[i].Portgroup = extWithout(s.NetworkInfo.Vswitch[i].Portgroup, oldKey)
		}
		vs := s.vswitch(spec.VswitchName)
		vs.Portgroup = append(vs.Portgroup, newKey)
	}
	if oldKey != newKey {
		s.renameNetwork(req.PgName, spec.Name)
		for i := range s.NetworkInfo.Vnic {
			if s.NetworkInfo.Vnic[i].Portgroup == req.PgName {
				s.NetworkInfo.Vnic[i].Portgroup = spec.Name
				s.NetworkInfo.Vnic[i].Spec.Portgroup = spec.Name
			}
		}
	}
	pg.Key = newKey
	pg.Spec = spec
	s.recompute()
	s.changed()
	body.Res = &types.UpdatePortGroupResponse{}
	return body
}

func (s *hostNetworkSystem) renameNetwork(from, to string) {
	folder := s.folder()
	if e := Map.FindByName(from, folder.ChildEntity); e != nil {
		if n, ok := e.(*mo.Network); ok {
			n.Name = to
			extNotify(n, "name")
		}
	}
}
