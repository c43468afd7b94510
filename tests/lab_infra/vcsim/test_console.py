"""PutUsbScanCodes (recorded, readable by the lab) and CreateScreenshot_Task."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyVmomi import vim

from securemode.infra.vcsim import Vcsim
from securemode.infra.vcsim.pytest_fixtures import run_task

HID = {"a": 0x04, "d": 0x07, "m": 0x10, "i": 0x0C, "n": 0x11, "1": 0x1E, "ENTER": 0x28}


def key(name: str, shift: bool = False) -> Any:
    mods = vim.UsbScanCodeSpec.ModifierType(leftShift=True) if shift else None
    return vim.UsbScanCodeSpec.KeyEvent(usbHidCode=(HID[name] << 16) | 7, modifiers=mods)


def test_typed_keys_are_counted_and_readable(vcsim: Vcsim, vcsim_vm: Any) -> None:
    events = [key("a", shift=True), key("d"), key("m"), key("i"), key("n"), key("1", shift=True), key("ENTER")]
    typed = vcsim_vm.PutUsbScanCodes(spec=vim.UsbScanCodeSpec(keyEvents=events))
    assert typed == len(events)
    record = vcsim.usb_scancodes(vcsim_vm._moId)
    assert record["text"] == "Admin!\n"
    assert record["events"][0] == {"hid": 4, "key": "a", "char": "A", "modifiers": ["leftShift"]}
    later = vcsim.usb_scancodes(vcsim_vm._moId, since=record["count"] - 1)
    assert later["text"] == "\n"


def test_keys_are_also_written_as_json_lines(vcsim: Vcsim, vcsim_vm: Any) -> None:
    vcsim_vm.PutUsbScanCodes(spec=vim.UsbScanCodeSpec(keyEvents=[key("n")]))
    path = vcsim.state_dir / "usb-scancodes" / f"{vcsim_vm._moId}.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-1]["char"] == "n"


def test_screenshot_is_a_png_in_the_vm_directory(vcsim_vm: Any) -> None:
    path = run_task(vcsim_vm.CreateScreenshot_Task())
    assert path.startswith("[LocalDS_0] ") and path.endswith(".png")
    datastore = vcsim_vm.datastore[0]
    local = datastore.info.url + "/" + path.split("] ", 1)[1]
    with open(local, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_powered_off_vm_refuses_both(vcsim_vm: Any) -> None:
    run_task(vcsim_vm.PowerOffVM_Task())
    try:
        with pytest.raises(vim.fault.InvalidPowerState):
            vcsim_vm.PutUsbScanCodes(spec=vim.UsbScanCodeSpec(keyEvents=[key("a")]))
        with pytest.raises(vim.fault.InvalidPowerState):
            run_task(vcsim_vm.CreateScreenshot_Task())
    finally:
        run_task(vcsim_vm.PowerOnVM_Task())
