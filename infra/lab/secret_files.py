"""The lab's secrets as 0600 files under its state folder, named in the site file as ``file:`` references."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from securemode.redact import register_secret


def new_password(length: int = 20) -> str:
    """A random password with upper, lower and digits (satisfies every lab password rule)."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(length - 3))
    return f"Lb{body}7"


class SecretFiles:
    """One folder (0700) of secret files (0600); every value written is registered for redaction."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, name: str, value: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        register_secret(value)
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        return path

    def read(self, name: str) -> str:
        value = (self.directory / name).read_text().rstrip("\n")
        register_secret(value)
        return value

    def ref(self, name: str) -> str:
        """The site-file reference to a secret file."""
        return f"file:{self.directory / name}"
