// securemode vcsim extension: decode USB HID key events (US layout) into key names and text, so the
// lab can see what a stage typed into a VM console.

package simulator

import (
	"fmt"

	"github.com/vmware/govmomi/vim25/types"
)

type extKey struct{ name, plain, shifted string }

var extHIDKeys = func() map[int32]extKey {
	keys := map[int32]extKey{
		0x28: {"ENTER", "\n", "\n"}, 0x29: {"ESC", "", ""}, 0x2a: {"BACKSPACE", "\b", "\b"},
		0x2b: {"TAB", "\t", "\t"}, 0x2c: {"SPACE", " ", " "}, 0x2d: {"-", "-", "_"}, 0x2e: {"=", "=", "+"},
		0x2f: {"[", "[", "{"}, 0x30: {"]", "]", "}"}, 0x31: {"\\", "\\", "|"}, 0x33: {";", ";", ":"},
		0x34: {"'", "'", "\""}, 0x35: {"`", "`", "~"}, 0x36: {",", ",", "<"}, 0x37: {".", ".", ">"},
		0x38: {"/", "/", "?"}, 0x4f: {"RIGHT", "", ""}, 0x50: {"LEFT", "", ""}, 0x51: {"DOWN", "", ""},
		0x52: {"UP", "", ""}, 0x4a: {"HOME", "", ""}, 0x4d: {"END", "", ""}, 0x4c: {"DELETE", "", ""},
	}
	for i := int32(0); i < 26; i++ {
		c := string(rune('a' + i))
		keys[0x04+i] = extKey{c, c, string(rune('A' + i))}
	}
	shiftedDigits := ")!@#$%^&*("
	for i := int32(1); i <= 10; i++ {
		d := i % 10
		keys[0x1d+i] = extKey{fmt.Sprint(d), fmt.Sprint(d), string(shiftedDigits[d])}
	}
	for i := int32(0); i < 12; i++ {
		keys[0x3a+i] = extKey{fmt.Sprintf("F%d", i+1), "", ""}
	}
	return keys
}()

// extDecodeKey turns one key event into a recorded key. pyVmomi callers send
// usbHidCode = (hid << 16) | 7, which is what ESXi expects.
func extDecodeKey(ev types.UsbScanCodeSpecKeyEvent) ExtKeyEvent {
	hid := ev.UsbHidCode >> 16
	out := ExtKeyEvent{HID: hid, Modifiers: []string{}}
	shift, ctrlOrAlt := false, false
	if m := ev.Modifiers; m != nil {
		for _, mod := range []struct {
			name string
			on   *bool
		}{
			{"leftControl", m.LeftControl}, {"leftShift", m.LeftShift}, {"leftAlt", m.LeftAlt},
			{"leftGui", m.LeftGui}, {"rightControl", m.RightControl}, {"rightShift", m.RightShift},
			{"rightAlt", m.RightAlt}, {"rightGui", m.RightGui},
		} {
			if isTrue(mod.on) {
				out.Modifiers = append(out.Modifiers, mod.name)
				shift = shift || mod.name == "leftShift" || mod.name == "rightShift"
				ctrlOrAlt = ctrlOrAlt || mod.name != "leftShift" && mod.name != "rightShift"
			}
		}
	}
	key, ok := extHIDKeys[hid]
	if !ok {
		out.Key = fmt.Sprintf("HID_0x%02x", hid)
		return out
	}
	out.Key = key.name
	if !ctrlOrAlt {
		out.Char = key.plain
		if shift {
			out.Char = key.shifted
		}
	}
	return out
}
