// securemode vcsim extension: the VM console calls the stages use to drive a node's admin console:
// PutUsbScanCodes (keys are recorded so the lab can read what was typed) and CreateScreenshot_Task.
// Both need the VM powered on, as on ESXi.

package simulator

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// ExtKeyEvent is one recorded key press, as served by the lab-only endpoint.
type ExtKeyEvent struct {
	HID       int32    `json:"hid"`       // USB HID usage id (usbHidCode >> 16)
	Key       string   `json:"key"`       // key name on a US layout, e.g. "a", "ENTER", "F2"
	Char      string   `json:"char"`      // the text the key types with its modifiers, "" if none
	Modifiers []string `json:"modifiers"` // e.g. ["leftShift"]
}

var extUsb = struct {
	sync.Mutex
	events map[string][]ExtKeyEvent // by VM moid
}{events: map[string][]ExtKeyEvent{}}

// extScreenshots numbers screenshot files.
var extScreenshots int64

// ExtUsbPath is the lab-only HTTP path that returns the recorded keys.
const ExtUsbPath = "/vcsim-ext/usbscancodes"

func (vm *VirtualMachine) requirePoweredOn() *soap.Fault {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return Fault("", &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOn,
			ExistingState:  vm.Runtime.PowerState,
		})
	}
	return nil
}

func (vm *VirtualMachine) PutUsbScanCodes(req *types.PutUsbScanCodes) soap.HasFault {
	body := &methods.PutUsbScanCodesBody{}
	if body.Fault_ = vm.requirePoweredOn(); body.Fault_ != nil {
		return body
	}
	events := make([]ExtKeyEvent, 0, len(req.Spec.KeyEvents))
	for _, ev := range req.Spec.KeyEvents {
		events = append(events, extDecodeKey(ev))
	}
	extUsb.Lock()
	extUsb.events[vm.Self.Value] = append(extUsb.events[vm.Self.Value], events...)
	extUsb.Unlock()
	extAppendUsbLog(vm.Self.Value, events)
	body.Res = &types.PutUsbScanCodesResponse{Returnval: int32(len(events))}
	return body
}

// extAppendUsbLog writes events as JSON lines to <state-dir>/usb-scancodes/<moid>.jsonl.
func extAppendUsbLog(moid string, events []ExtKeyEvent) {
	if Ext.StateDir == "" {
		return
	}
	dir := filepath.Join(Ext.StateDir, "usb-scancodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, moid+".jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, ev := range events {
		_ = enc.Encode(ev)
	}
}

// ExtServeUsbScanCodes answers GET /vcsim-ext/usbscancodes?vm=<moid>[&since=N]: the keys typed
// into that VM (from index N on), and the text they spell. Without vm: the count per VM.
func ExtServeUsbScanCodes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	extUsb.Lock()
	defer extUsb.Unlock()
	w.Header().Set("Content-Type", "application/json")
	moid := r.URL.Query().Get("vm")
	if moid == "" {
		counts := map[string]int{}
		for k, v := range extUsb.events {
			counts[k] = len(v)
		}
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"vms": counts})
		return
	}
	all := extUsb.events[moid]
	since, err := strconv.Atoi(r.URL.Query().Get("since"))
	if err != nil || since < 0 || since > len(all) {
		since = 0
	}
	events := append([]ExtKeyEvent{}, all[since:]...)
	text := ""
	for _, ev := range events {
		text += ev.Char
	}
	_ = json.NewEncoder(w).Encode(map[string]interface{}{
		"vm": moid, "count": len(all), "since": since, "events": events, "text": text,
	})
}

func (vm *VirtualMachine) CreateScreenshotTask(req *types.CreateScreenshot_Task) soap.HasFault {
	body := &methods.CreateScreenshot_TaskBody{}
	task := CreateTask(vm, "createScreenshot", func(t *Task) (types.AnyType, types.BaseMethodFault) {
		if fault := vm.requirePoweredOn(); fault != nil {
			return nil, fault.Detail.Fault.(types.BaseMethodFault)
		}
		return vm.writeScreenshot()
	})
	body.Res = &types.CreateScreenshot_TaskResponse{Returnval: task.Run()}
	return body
}

// writeScreenshot stores a small PNG next to the .vmx and returns its datastore path.
func (vm *VirtualMachine) writeScreenshot() (types.AnyType, types.BaseMethodFault) {
	var vmx object.DatastorePath
	if !vmx.FromString(vm.Config.Files.VmPathName) {
		return nil, &types.InvalidDatastorePath{DatastorePath: vm.Config.Files.VmPathName}
	}
	ds := vm.findDatastore(vmx.Datastore)
	if ds == nil {
		return nil, &types.InvalidDatastore{Name: vmx.Datastore}
	}
	n := atomic.AddInt64(&extScreenshots, 1)
	rel := path.Join(path.Dir(vmx.Path), fmt.Sprintf("%s-%d.png", vm.Name, n))
	file := filepath.Join(ds.Info.GetDatastoreInfo().Url, rel)
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{R: 0x1f, G: 0x3a, B: uint8(x * 4), A: 0xff})
		}
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, &types.FileFault{File: file}
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		return nil, &types.FileFault{File: file}
	}
	return (&object.DatastorePath{Datastore: vmx.Datastore, Path: rel}).String(), nil
}
