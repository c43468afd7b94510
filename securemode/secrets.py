"""Secret references: ``env:NAME``, ``file:PATH`` or ``prefect-secret:NAME`` (design principle 6).

The site file only ever holds references. A reference is resolved at the moment a value is needed
and the value is registered with :mod:`securemode.redact`, so it can't leak into any output.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from securemode.redact import register_secret

SECRET_REF_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|prefect-secret:[a-z0-9][a-z0-9-]*)$"
_REF = re.compile(SECRET_REF_PATTERN)


class SecretError(Exception):
    """A secret reference that does not resolve; the message names the reference, never a value."""


def is_reference(text: str) -> bool:
    """True when ``text`` has the form of a secret reference."""
    return bool(_REF.match(text))


def resolve(ref: str, base_dir: Path | None = None) -> SecretStr:
    """Resolve a reference to its value; relative ``file:`` paths are taken from ``base_dir``."""
    if not is_reference(ref):
        raise SecretError(f"'{ref}' is not a secret reference (use env:NAME, file:PATH or prefect-secret:NAME)")
    kind, _, name = ref.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"environment variable {name} is not set")
    elif kind == "file":
        path = Path(name)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            value = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None
    else:
        value = _prefect_secret(name)
    register_secret(value)
    return SecretStr(value)


def _prefect_secret(name: str) -> str:
    """Load a Prefect Secret block; needs a reachable Prefect API."""
    try:
        from prefect.blocks.system import Secret

        block: Any = Secret.load(name, _sync=True)  # type: ignore[call-arg]
        value: object = block.get()
    except Exception as exc:
        raise SecretError(f"Prefect Secret block '{name}' could not be loaded ({type(exc).__name__})") from None
    if not isinstance(value, str):
        raise SecretError(f"Prefect Secret block '{name}' does not hold a string")
    return value
