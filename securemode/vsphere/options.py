"""Host advanced options read and written with the type ESXi declares for each one.

The type comes from ``supportedOption[].optionType`` (LongOption, IntOption, BoolOption,
StringOption); sending a Python int for a long option is the classic failure (ansible#41212), so
values are always converted to the declared type before ``UpdateOptions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from securemode.results import JsonValue
from securemode.vsphere.vmodl import vim, xsd_long

OptionKind = Literal["long", "int", "bool", "string"]


@dataclass(frozen=True)
class OptionState:
    """One option as the host has it: its key, value (plain Python) and declared kind."""

    key: str
    value: JsonValue
    kind: OptionKind | None


def _kind_of_type(option_type: Any) -> OptionKind | None:
    if isinstance(option_type, vim.option.LongOption):
        return "long"
    if isinstance(option_type, vim.option.IntOption):
        return "int"
    if isinstance(option_type, vim.option.BoolOption):
        return "bool"
    if isinstance(option_type, vim.option.StringOption):
        return "string"
    return None


def _kind_of_value(value: Any) -> OptionKind | None:
    """Fallback when an option has no definition: pyVmomi keeps the wire type of what it read."""
    if isinstance(value, bool):
        return "bool"
    if type(value).__name__ == "long":
        return "long"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    return None


def plain(value: Any) -> JsonValue:
    """A value read from vSphere as a plain JSON value (bool before int: bool is an int in Python)."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def read_options(host: Any, keys: list[str]) -> dict[str, OptionState]:
    """The named options (missing ones are absent from the answer), with their declared kinds."""
    manager = host.configManager.advancedOption
    kinds = {d.key: _kind_of_type(d.optionType) for d in manager.supportedOption or []}
    wanted = set(keys)
    found: dict[str, OptionState] = {}
    for opt in manager.QueryOptions(""):
        if opt.key in wanted:
            kind = kinds.get(opt.key) or _kind_of_value(opt.value)
            found[opt.key] = OptionState(key=opt.key, value=plain(opt.value), kind=kind)
    return found


def coerce(kind: OptionKind | None, value: JsonValue) -> JsonValue:
    """``value`` as a plain value of ``kind``, so the host's answer and the site's wish compare exactly."""
    if kind in ("long", "int") and isinstance(value, bool | int | str):
        return int(value)
    if kind == "bool" and isinstance(value, bool | int):
        return bool(value)
    if kind == "string" and value is not None:
        return str(value)
    return value


def matches(state: OptionState, desired: JsonValue) -> bool:
    """True when the host's value equals ``desired`` once both have the option's declared type."""
    want = coerce(state.kind, desired)
    have = coerce(state.kind, state.value)
    return type(want) is type(have) and want == have


def wire_value(kind: OptionKind | None, value: JsonValue) -> Any:
    """The value as pyVmomi must send it for an option of ``kind``."""
    if kind == "long":
        return xsd_long(int(coerce(kind, value)))  # type: ignore[arg-type]
    return coerce(kind, value)


def write_option(host: Any, state: OptionState, desired: JsonValue) -> None:
    """Set one option to ``desired`` in its declared type."""
    change = vim.option.OptionValue(key=state.key, value=wire_value(state.kind, desired))
    host.configManager.advancedOption.UpdateOptions(changedValue=[change])
