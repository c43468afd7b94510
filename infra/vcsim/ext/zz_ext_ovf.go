// securemode vcsim extension: OVF descriptors that are XML but not a single-VM OVF. Stock 0.24.2
// panicked (dropping the connection); ESXi reports the problem in the import spec result.

package simulator

import (
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func extOvfMissingVirtualSystem() soap.HasFault {
	fault := &types.OvfMissingElement{OvfElement: types.OvfElement{Name: "VirtualSystem"}}
	return &methods.CreateImportSpecBody{Res: &types.CreateImportSpecResponse{
		Returnval: types.OvfCreateImportSpecResult{Error: []types.LocalizedMethodFault{{
			Fault:            fault,
			LocalizedMessage: "The OVF descriptor has no VirtualSystem element",
		}}},
	}}
}
