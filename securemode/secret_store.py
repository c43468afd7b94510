"""Writing a new value behind a secret reference, through the reference's own backend.

Only ``file:`` (the file is replaced atomically, owner-only) and ``prefect-secret:`` (the Secret block is
saved over) are writable; an ``env:`` value lives in the environment of whoever starts the engine, so the
engine cannot change it for the next run. A value written is registered with :mod:`securemode.redact` first.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from securemode.redact import register_secret
from securemode.secrets import SecretError, is_reference

WRITABLE_KINDS = ("file", "prefect-secret")


def kind_of(ref: str) -> str:
    """``env``, ``file`` or ``prefect-secret``."""
    if not is_reference(ref):
        raise SecretError(f"'{ref}' is not a secret reference (use env:NAME, file:PATH or prefect-secret:NAME)")
    return ref.partition(":")[0]


def writable(ref: str) -> bool:
    """True when the engine can write a new value behind ``ref``."""
    return kind_of(ref) in WRITABLE_KINDS


def file_path(ref: str, base_dir: Path | None) -> Path:
    path = Path(ref.partition(":")[2])
    return path if path.is_absolute() or base_dir is None else base_dir / path


def write(ref: str, value: str, base_dir: Path | None = None) -> None:
    """Store ``value`` behind ``ref``; raise SecretError (naming the reference, never the value) otherwise."""
    register_secret(value)
    kind = kind_of(ref)
    if kind == "file":
        _write_file(file_path(ref, base_dir), value)
    elif kind == "prefect-secret":
        _save_block(ref.partition(":")[2], value)
    else:
        raise SecretError(f"{ref} is an environment variable: the engine cannot change it")


def _write_file(path: Path, value: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise SecretError(f"cannot write secret file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_block(name: str, value: str) -> None:
    try:
        from prefect.blocks.system import Secret

        Secret(value=value).save(name, overwrite=True, _sync=True)  # type: ignore[call-arg]
    except Exception as exc:
        raise SecretError(f"Prefect Secret block '{name}' could not be saved ({type(exc).__name__})") from None
