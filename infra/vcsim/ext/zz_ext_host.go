// securemode vcsim extension: settings from our main and per-host initialisation.
// Compiled into package simulator through `go build -overlay` (see patch_sources.py).

package simulator

import (
	"fmt"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// ExtSettings is filled by our main before Model.Create, because hosts read it when they are built.
type ExtSettings struct {
	PNICs          int    // physical NICs per host (ESXi hosts in the lab need >= 2)
	StrictOptions  bool   // advanced options behave like ESXi: unknown keys and wrong types are refused
	LockdownLogins bool   // in lockdown mode, direct logins of users that are not exceptions fail
	StateDir       string // where lab-only records (typed USB scan codes) are written; "" = memory only
}

// Ext holds the extension settings for this process.
var Ext = ExtSettings{PNICs: 2, LockdownLogins: true}

// extInitHost gives a new host its pNICs; called at the end of NewHostSystem (patched).
func extInitHost(hs *HostSystem) {
	network := hs.Config.Network
	if Ext.PNICs > 0 && len(network.Pnic) > 0 {
		template := network.Pnic[0]
		nics := make([]types.PhysicalNic, 0, Ext.PNICs)
		for i := 0; i < Ext.PNICs; i++ {
			nics = append(nics, extPhysicalNic(template, i))
		}
		network.Pnic = nics
	}
}

// extPhysicalNic clones the template pNIC with its own device name, key, PCI slot and MAC.
func extPhysicalNic(template types.PhysicalNic, i int) types.PhysicalNic {
	var nic types.PhysicalNic
	deepCopy(&template, &nic)
	nic.Device = fmt.Sprintf("vmnic%d", i)
	nic.Key = "key-vim.host.PhysicalNic-" + nic.Device
	nic.Pci = fmt.Sprintf("0000:%02x:00.0", 0x0b+8*i)
	nic.Mac = fmt.Sprintf("00:0c:29:81:d8:%02x", 0xa0+i)
	if nic.FcoeConfiguration != nil {
		nic.FcoeConfiguration.SourceMac = nic.Mac
	}
	return nic
}

// extHostRef returns the managed object reference a per-host manager should use: the real ESXi
// moid in ESX mode (one host), a generated unique one in vCenter mode.
func extHostRef(kind, esxValue string) types.ManagedObjectReference {
	ref := types.ManagedObjectReference{Type: kind}
	if Map.IsESX() {
		ref.Value = esxValue
	}
	return ref
}

// extHostOf finds the HostSystem that owns a manager, for lock and notification purposes.
func extHostOf(host *mo.HostSystem) mo.Reference {
	if obj := Map.Get(host.Self); obj != nil {
		return obj
	}
	return host
}
