// securemode vcsim extension: host advanced options seeded with typed ESXi defaults, and a strict
// mode that checks UpdateOptions like ESXi: an unknown key is InvalidName, a value of the wrong
// XML type (xsd:int sent to a long option, for example) or out of range is InvalidArgument.

package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// extOptionSeed is one entry of the seed file (see infra/vcsim/README.md).
type extOptionSeed struct {
	Key     string          `json:"key"`
	Type    string          `json:"type"` // long, int, bool or string
	Default json.RawMessage `json:"default"`
	Min     *int64          `json:"min,omitempty"`
	Max     *int64          `json:"max,omitempty"`
	Label   string          `json:"label,omitempty"`
	Summary string          `json:"summary,omitempty"`
}

var (
	extOptionDefs     []types.OptionDef
	extOptionDefaults []types.BaseOptionValue
)

// ExtLoadOptionSeed reads the seed file; call it before Model.Create so every host gets the options.
func ExtLoadOptionSeed(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var file struct {
		Options []extOptionSeed `json:"options"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, seed := range file.Options {
		if seed.Key == "" || seen[seed.Key] {
			return fmt.Errorf("%s: empty or duplicate key %q", path, seed.Key)
		}
		seen[seed.Key] = true
		def, val, err := seed.build()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, seed.Key, err)
		}
		extOptionDefs = append(extOptionDefs, def)
		extOptionDefaults = append(extOptionDefaults, &types.OptionValue{Key: seed.Key, Value: val})
	}
	return nil
}

// build turns a seed entry into the OptionDef and the typed default ESXi would report.
func (s extOptionSeed) build() (types.OptionDef, interface{}, error) {
	def := types.OptionDef{ElementDescription: types.ElementDescription{
		Description: types.Description{Label: s.Label, Summary: s.Summary}, Key: s.Key}}
	if def.Label == "" {
		def.Label = s.Key
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if s.Min != nil {
		lo = *s.Min
	}
	if s.Max != nil {
		hi = *s.Max
	}
	switch s.Type {
	case "long", "int":
		var n int64
		if err := json.Unmarshal(s.Default, &n); err != nil {
			return def, nil, fmt.Errorf("default must be an integer: %w", err)
		}
		if n < lo || n > hi {
			return def, nil, fmt.Errorf("default %d outside [%d, %d]", n, lo, hi)
		}
		if s.Type == "long" {
			def.OptionType = &types.LongOption{Min: lo, Max: hi, DefaultValue: n}
			return def, n, nil
		}
		if lo < math.MinInt32 || hi > math.MaxInt32 {
			return def, nil, fmt.Errorf("int option needs min and max within 32 bits")
		}
		def.OptionType = &types.IntOption{Min: int32(lo), Max: int32(hi), DefaultValue: int32(n)}
		return def, int32(n), nil
	case "bool":
		var b bool
		if err := json.Unmarshal(s.Default, &b); err != nil {
			return def, nil, fmt.Errorf("default must be a boolean: %w", err)
		}
		def.OptionType = &types.BoolOption{Supported: true, DefaultValue: b}
		return def, b, nil
	case "string":
		var str string
		if err := json.Unmarshal(s.Default, &str); err != nil {
			return def, nil, fmt.Errorf("default must be a string: %w", err)
		}
		def.OptionType = &types.StringOption{DefaultValue: str}
		return def, str, nil
	}
	return def, nil, fmt.Errorf("unknown type %q (long, int, bool or string)", s.Type)
}

// hostOptionManager is the per-host OptionManager ("configManager.advancedOption").
type hostOptionManager struct {
	OptionManager
}

func extNewHostOptionManager() *hostOptionManager {
	m := &hostOptionManager{}
	m.Self.Type = "OptionManager"
	defaults := extOptionDefaults
	if len(defaults) == 0 {
		defaults = esx.Setting
	}
	for _, opt := range defaults {
		v := *opt.GetOptionValue() // per-host copy: hosts must not share option values
		m.Setting = append(m.Setting, &v)
	}
	m.SupportedOption = append([]types.OptionDef(nil), extOptionDefs...)
	return m
}

func (m *hostOptionManager) def(key string) *types.OptionDef {
	for i := range m.SupportedOption {
		if m.SupportedOption[i].Key == key {
			return &m.SupportedOption[i]
		}
	}
	return nil
}

// QueryOptions answers like ESXi in strict mode: "" is everything, a name ending in "." is a
// subtree, anything else must be an exact key.
func (m *hostOptionManager) QueryOptions(req *types.QueryOptions) soap.HasFault {
	if !Ext.StrictOptions {
		return m.OptionManager.QueryOptions(req)
	}
	body := &methods.QueryOptionsBody{}
	res := &types.QueryOptionsResponse{}
	for _, opt := range m.Setting {
		key := opt.GetOptionValue().Key
		if req.Name == "" || key == req.Name || (strings.HasSuffix(req.Name, ".") && strings.HasPrefix(key, req.Name)) {
			res.Returnval = append(res.Returnval, opt)
		}
	}
	if len(res.Returnval) == 0 {
		body.Fault_ = Fault("", &types.InvalidName{Name: req.Name})
		return body
	}
	body.Res = res
	return body
}

// check validates one change against the option definitions (strict mode).
func (m *hostOptionManager) check(change *types.OptionValue) types.BaseMethodFault {
	def := m.def(change.Key)
	if def == nil {
		if m.find(change.Key) == nil {
			return &types.InvalidName{Name: change.Key}
		}
		return nil // a stock option without a definition: accept as stock does
	}
	bad := &types.InvalidArgument{InvalidProperty: change.Key}
	switch t := def.OptionType.(type) {
	case *types.LongOption:
		n, ok := change.Value.(int64)
		if !ok || n < t.Min || n > t.Max {
			return bad
		}
	case *types.IntOption:
		n, ok := change.Value.(int32)
		if !ok || n < t.Min || n > t.Max {
			return bad
		}
	case *types.BoolOption:
		if _, ok := change.Value.(bool); !ok {
			return bad
		}
	case *types.StringOption:
		if _, ok := change.Value.(string); !ok {
			return bad
		}
	}
	return nil
}

// UpdateOptions checks every change first (strict mode), so a refused call changes nothing.
func (m *hostOptionManager) UpdateOptions(req *types.UpdateOptions) soap.HasFault {
	if Ext.StrictOptions {
		for _, change := range req.ChangedValue {
			if fault := m.check(change.GetOptionValue()); fault != nil {
				return &methods.UpdateOptionsBody{Fault_: Fault("", fault)}
			}
		}
	}
	res := m.OptionManager.UpdateOptions(req)
	if res.Fault() == nil {
		extNotify(m, "setting")
	}
	return res
}
