// securemode vcsim extension: publish property changes to WaitForUpdatesEx.
// Stock vcsim only publishes a few changes (power state, devices, tasks); the hardening API
// changes fields in place, so it tells the property collectors itself.

package simulator

import (
	"encoding/json"
	"reflect"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// extNotify sends the current value of each named property path of obj to every listening
// property collector, as a "modify" update.
func extNotify(obj mo.Reference, names ...string) {
	if len(names) == 0 {
		return
	}
	rval := reflect.ValueOf(obj)
	changes := make([]types.PropertyChange, 0, len(names))
	for _, name := range names {
		val, err := fieldValue(rval, name)
		change := types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign, Val: val}
		if err != nil {
			change.Op = types.PropertyChangeOpRemove
			change.Val = nil
		}
		changes = append(changes, change)
	}
	Map.applyHandlers(func(o RegisterObject) {
		o.UpdateObject(obj, changes)
	})
}

// extSnapshot records the values of property paths so that extChanged can tell which changed.
func extSnapshot(obj mo.Reference, names []string) map[string]string {
	rval := reflect.ValueOf(obj)
	snap := make(map[string]string, len(names))
	for _, name := range names {
		val, err := fieldValue(rval, name)
		if err != nil {
			snap[name] = ""
			continue
		}
		b, _ := json.Marshal(val)
		snap[name] = string(b)
	}
	return snap
}

// extChanged returns the property paths whose value differs from the snapshot.
func extChanged(obj mo.Reference, before map[string]string, names []string) []string {
	after := extSnapshot(obj, names)
	var changed []string
	for _, name := range names {
		if after[name] != before[name] {
			changed = append(changed, name)
		}
	}
	return changed
}
