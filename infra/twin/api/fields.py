"""Field declarations and per-field validation, with Django's wording for the messages."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], str | None]


@dataclass(frozen=True)
class Field:
    """One field of a resource as its Tastypie schema describes it, plus the twin's storage rules."""

    kind: str  # string | boolean | integer | related | datetime | list
    default: Any = None
    nullable: bool = False
    blank: bool = True
    required: bool = False
    readonly: bool = False
    write_only: bool = False
    unique: bool = False
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    min_length: int | None = None
    related: str | None = None
    many: bool = False
    nested: bool = False
    check: Check | None = None
    help_text: str = ""

    def default_value(self) -> Any:
        return copy.deepcopy(self.default)


# constructors -------------------------------------------------------------------------------------
def string(max_length: int | None = 250, default: Any = "", **kw: Any) -> Field:
    return Field("string", default=default, max_length=max_length, **kw)


def choice(choices: tuple[str, ...], default: Any, **kw: Any) -> Field:
    return Field("string", default=default, choices=choices, **kw)


def boolean(default: bool | None = False, **kw: Any) -> Field:
    return Field("boolean", default=default, **kw)


def integer(minimum: int | None = None, maximum: int | None = None, default: Any = None, **kw: Any) -> Field:
    return Field("integer", default=default, minimum=minimum, maximum=maximum, **kw)


def to_one(resource: str, **kw: Any) -> Field:
    kw.setdefault("nullable", True)
    return Field("related", related=resource, **kw)


def to_many(resource: str, nested: bool = False, **kw: Any) -> Field:
    return Field("related", related=resource, many=True, nested=nested, default=[], **kw)


def readonly(kind: str = "string", default: Any = "", **kw: Any) -> Field:
    return Field(kind, default=default, readonly=True, **kw)


# checks -------------------------------------------------------------------------------------------
def ipv4(value: Any) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return "Enter a valid IPv4 address."
    return None


def ip_any(value: Any) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "Enter a valid IPv4 or IPv6 address."
    return None


def optional_ipv6(value: Any) -> str | None:
    if value in ("", None):
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return "Enter a valid IPv6 address."
    return None


def host_or_ip(value: Any) -> str | None:
    text = str(value)
    if ip_any(text) is None:
        return None
    labels = text.rstrip(".").split(".")
    ok = all(0 < len(lbl) <= 63 and lbl.replace("-", "").isalnum() and not lbl.startswith("-") for lbl in labels)
    return None if ok and text else "Enter a valid hostname or IP address."


def netmask(value: Any) -> str | None:
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{value}")
    except ValueError:
        return "Enter a valid network mask."
    return None


def hostname_label(value: Any) -> str | None:
    text = str(value)
    if text and text.replace("-", "").isalnum() and not text.startswith("-"):
        return None
    return "Enter a valid hostname."


# validation ---------------------------------------------------------------------------------------
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def coerce(name: str, fld: Field, value: Any) -> tuple[Any, str | None]:
    """Validate one written value (relations excluded); return (stored value, error message)."""
    if value is None:
        if fld.nullable:
            return None, None
        return None, "This field cannot be null."
    if fld.kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE, None
        return None, f"'{_short(value)}' value must be either True or False."
    if fld.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None, f"'{_short(value)}' value must be an integer."
        try:
            number = int(value)
        except ValueError:
            return None, f"'{_short(value)}' value must be an integer."
        if fld.minimum is not None and number < fld.minimum:
            return None, f"Ensure this value is greater than or equal to {fld.minimum}."
        if fld.maximum is not None and number > fld.maximum:
            return None, f"Ensure this value is less than or equal to {fld.maximum}."
        return number, None
    if fld.kind == "list":
        return (value, None) if isinstance(value, list) else (None, "Enter a list of values.")
    # strings
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool) and fld.choices is None:
            value = str(value)
        else:
            return None, "Enter a valid value."
    if fld.choices is not None and value not in fld.choices:
        return None, f"Value '{_short(value)}' is not a valid choice."
    if value == "" and (not fld.blank or fld.required):
        return None, "This field cannot be blank."
    if fld.max_length is not None and len(value) > fld.max_length:
        return None, f"Ensure this value has at most {fld.max_length} characters (it has {len(value)})."
    if fld.min_length is not None and value and len(value) < fld.min_length:
        return None, f"Ensure this value has at least {fld.min_length} characters (it has {len(value)})."
    if fld.check is not None and value != "":
        message = fld.check(value)
        if message:
            return None, message
    return value, None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
