// securemode vcsim extension: ReconfigVM_Task checks values like ESXi before applying anything,
// merges partial allocations, reports computed shares, honours memoryReservationLockedToMax and
// publishes the config changes to WaitForUpdatesEx. Stock 0.24.2 accepted a reservation above the
// limit, applied half a spec before failing, and published nothing.

package simulator

import (
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// extVMConfigPaths are the properties whose changes a reconfigure publishes.
var extVMConfigPaths = []string{
	"name", "config.name", "config.annotation", "config.cpuAllocation", "config.memoryAllocation",
	"config.hardware", "config.hardware.numCPU", "config.hardware.numCoresPerSocket",
	"config.hardware.memoryMB", "config.hardware.device", "config.bootOptions", "config.extraConfig",
	"config.memoryReservationLockedToMax", "config.guestId", "config.version", "config.flags",
	"summary.config", "summary.config.numCpu", "summary.config.memorySizeMB",
	"summary.config.cpuReservation", "summary.config.memoryReservation",
}

// extInvalid builds the fault ESXi returns; msg documents the rule at the call site.
func extInvalid(property, msg string) *types.InvalidArgument {
	return &types.InvalidArgument{InvalidProperty: property}
}

// extMergeAllocation overlays the set fields of a partial allocation on the current one.
func extMergeAllocation(cur, spec *types.ResourceAllocationInfo) *types.ResourceAllocationInfo {
	out := &types.ResourceAllocationInfo{}
	if cur != nil {
		*out = *cur
	}
	if spec.Reservation != nil {
		out.Reservation = types.NewInt64(*spec.Reservation)
	}
	if spec.Limit != nil {
		out.Limit = types.NewInt64(*spec.Limit)
	}
	if spec.Shares != nil {
		shares := *spec.Shares
		out.Shares = &shares
	}
	if spec.ExpandableReservation != nil {
		out.ExpandableReservation = types.NewBool(*spec.ExpandableReservation)
	}
	return out
}

// extCheckAllocation applies ESXi's rules: reservation >= 0, limit -1 or >= reservation,
// custom shares need a positive value.
func extCheckAllocation(kind string, a *types.ResourceAllocationInfo) types.BaseMethodFault {
	prop := "spec." + kind + "Allocation"
	if a.Reservation != nil && *a.Reservation < 0 {
		return extInvalid(prop+".reservation", "negative reservation")
	}
	if a.Limit != nil && *a.Limit < -1 {
		return extInvalid(prop+".limit", "limit below -1")
	}
	if a.Limit != nil && *a.Limit != -1 && a.Reservation != nil && *a.Reservation > *a.Limit {
		return extInvalid(prop+".reservation", "reservation above limit")
	}
	if a.Shares != nil {
		if err := extCheckShares(prop+".shares", a.Shares); err != nil {
			return err
		}
	}
	return nil
}

func extCheckShares(prop string, s *types.SharesInfo) types.BaseMethodFault {
	switch s.Level {
	case types.SharesLevelCustom:
		if s.Shares <= 0 {
			return extInvalid(prop+".shares", "custom shares need a positive value")
		}
	case types.SharesLevelLow, types.SharesLevelNormal, types.SharesLevelHigh:
	default:
		return extInvalid(prop+".level", "unknown shares level")
	}
	return nil
}

// extShareValue is the share count ESXi reports for a named level (per vCPU, per MB, per disk).
func extShareValue(level types.SharesLevel, normal int32) int32 {
	switch level {
	case types.SharesLevelLow:
		return normal / 2
	case types.SharesLevelHigh:
		return normal * 2
	}
	return normal
}

// extReconfigure is called by ReconfigVMTask (patched) instead of configure.
func (vm *VirtualMachine) extReconfigure(ctx *Context, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	if err := vm.extCheckSpec(spec); err != nil {
		return err
	}
	before := extSnapshot(vm, extVMConfigPaths)
	if err := vm.configure(spec); err != nil {
		return err
	}
	vm.extNormalise()
	if changed := extChanged(vm, before, extVMConfigPaths); len(changed) != 0 {
		extNotify(vm, changed...)
	}
	return nil
}

// extCheckSpec validates a spec against the merged result, and rewrites partial allocations and
// boot options into merged ones so that configure keeps the fields the caller did not send.
func (vm *VirtualMachine) extCheckSpec(spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	hw := vm.Config.Hardware
	memoryMB := int64(hw.MemoryMB)
	if spec.MemoryMB != 0 {
		if spec.MemoryMB < 4 || spec.MemoryMB%4 != 0 {
			return extInvalid("spec.memoryMB", "memory must be a positive multiple of 4 MB")
		}
		memoryMB = spec.MemoryMB
	}
	numCPU, cores := hw.NumCPU, hw.NumCoresPerSocket
	if spec.NumCPUs < 0 {
		return extInvalid("spec.numCPUs", "negative CPU count")
	}
	if spec.NumCPUs != 0 {
		numCPU = spec.NumCPUs
	}
	if spec.NumCoresPerSocket != 0 {
		cores = spec.NumCoresPerSocket
	}
	if cores > 0 && numCPU%cores != 0 {
		return extInvalid("spec.numCoresPerSocket", "CPUs must be a multiple of cores per socket")
	}
	if spec.CpuAllocation != nil {
		spec.CpuAllocation = extMergeAllocation(vm.Config.CpuAllocation, spec.CpuAllocation)
		if err := extCheckAllocation("cpu", spec.CpuAllocation); err != nil {
			return err
		}
	}
	mem := vm.Config.MemoryAllocation
	if spec.MemoryAllocation != nil {
		spec.MemoryAllocation = extMergeAllocation(mem, spec.MemoryAllocation)
		if err := extCheckAllocation("memory", spec.MemoryAllocation); err != nil {
			return err
		}
		mem = spec.MemoryAllocation
	}
	locked := isTrue(vm.Config.MemoryReservationLockedToMax)
	if spec.MemoryReservationLockedToMax != nil {
		locked = *spec.MemoryReservationLockedToMax
	}
	if !locked && mem != nil && mem.Reservation != nil && *mem.Reservation > memoryMB {
		return extInvalid("spec.memoryAllocation.reservation", "reservation above configured memory")
	}
	if err := vm.extCheckDevices(spec); err != nil {
		return err
	}
	return vm.extMergeBootOptions(spec)
}

// extCheckDevices checks disk IOPS limits and shares in device changes.
func (vm *VirtualMachine) extCheckDevices(spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	for _, change := range spec.DeviceChange {
		disk, ok := change.GetVirtualDeviceConfigSpec().Device.(*types.VirtualDisk)
		if !ok || disk.StorageIOAllocation == nil {
			continue
		}
		io := disk.StorageIOAllocation
		if io.Limit != nil && (*io.Limit == 0 || *io.Limit < -1) {
			return extInvalid("spec.deviceChange.device.storageIOAllocation.limit", "IOPS limit must be -1 or positive")
		}
		if io.Reservation != nil && *io.Reservation < 0 {
			return extInvalid("spec.deviceChange.device.storageIOAllocation.reservation", "negative IOPS reservation")
		}
		if io.Shares != nil {
			if err := extCheckShares("spec.deviceChange.device.storageIOAllocation.shares", io.Shares); err != nil {
				return err
			}
			if io.Shares.Level != types.SharesLevelCustom {
				io.Shares.Shares = extShareValue(io.Shares.Level, 1000)
			}
		}
	}
	return nil
}

// extMergeBootOptions keeps unset boot fields and checks that the boot order names real devices.
func (vm *VirtualMachine) extMergeBootOptions(spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	in := spec.BootOptions
	if in == nil {
		return nil
	}
	out := types.VirtualMachineBootOptions{}
	if cur := vm.Config.BootOptions; cur != nil {
		out = *cur
	}
	if in.BootDelay != 0 {
		out.BootDelay = in.BootDelay
	}
	if in.EnterBIOSSetup != nil {
		out.EnterBIOSSetup = types.NewBool(*in.EnterBIOSSetup)
	}
	if in.EfiSecureBootEnabled != nil {
		out.EfiSecureBootEnabled = types.NewBool(*in.EfiSecureBootEnabled)
	}
	if in.BootRetryEnabled != nil {
		out.BootRetryEnabled = types.NewBool(*in.BootRetryEnabled)
	}
	if in.BootRetryDelay != 0 {
		out.BootRetryDelay = in.BootRetryDelay
	}
	if in.NetworkBootProtocol != "" {
		out.NetworkBootProtocol = in.NetworkBootProtocol
	}
	if in.BootOrder != nil {
		devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
		for _, change := range spec.DeviceChange {
			devices = append(devices, change.GetVirtualDeviceConfigSpec().Device)
		}
		for _, item := range in.BootOrder {
			if !extBootDeviceExists(devices, item) {
				return extInvalid("spec.bootOptions.bootOrder", "boot device does not exist")
			}
		}
		out.BootOrder = in.BootOrder
	}
	spec.BootOptions = &out
	return nil
}

func extBootDeviceExists(devices object.VirtualDeviceList, item types.BaseVirtualMachineBootOptionsBootableDevice) bool {
	switch d := item.(type) {
	case *types.VirtualMachineBootOptionsBootableDiskDevice:
		dev := devices.FindByKey(d.DeviceKey)
		_, ok := dev.(*types.VirtualDisk)
		return ok
	case *types.VirtualMachineBootOptionsBootableEthernetDevice:
		dev := devices.FindByKey(d.DeviceKey)
		return dev != nil
	}
	return true // CD-ROM and floppy entries name no device
}

// extNormalise derives what ESXi derives: share counts for named levels, the locked memory
// reservation and the summary reservations.
func (vm *VirtualMachine) extNormalise() {
	cfg := vm.Config
	if a := cfg.CpuAllocation; a != nil && a.Shares != nil && a.Shares.Level != types.SharesLevelCustom {
		a.Shares.Shares = extShareValue(a.Shares.Level, 1000*cfg.Hardware.NumCPU)
	}
	if a := cfg.MemoryAllocation; a != nil {
		if isTrue(cfg.MemoryReservationLockedToMax) {
			a.Reservation = types.NewInt64(int64(cfg.Hardware.MemoryMB))
		}
		if a.Shares != nil && a.Shares.Level != types.SharesLevelCustom {
			a.Shares.Shares = extShareValue(a.Shares.Level, 10*cfg.Hardware.MemoryMB)
		}
		if a.Reservation != nil {
			vm.Summary.Config.MemoryReservation = int32(*a.Reservation)
		}
	}
	if a := cfg.CpuAllocation; a != nil && a.Reservation != nil {
		vm.Summary.Config.CpuReservation = int32(*a.Reservation)
	}
}

// extSetExtraConfig replaces a key in place, and an empty value deletes it, as ESXi does.
func (vm *VirtualMachine) extSetExtraConfig(c types.BaseOptionValue) {
	val := c.GetOptionValue()
	remove := val.Value == nil
	if s, ok := val.Value.(string); ok && s == "" {
		remove = true
	}
	list := vm.Config.ExtraConfig[:0]
	replaced := false
	for _, opt := range vm.Config.ExtraConfig {
		if opt.GetOptionValue().Key != val.Key {
			list = append(list, opt)
			continue
		}
		if !remove && !replaced {
			list = append(list, c)
			replaced = true
		}
	}
	if !remove && !replaced {
		list = append(list, c)
	}
	vm.Config.ExtraConfig = list
}
