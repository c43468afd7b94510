"""Pinned console host keys, kept as an OpenSSH known_hosts file under the project's state folder.

Connections check the node's key against this file only. A key is recorded solely by
:meth:`HostKeyPins.pin`, which the engine calls from an explicit, approved pin step; nothing pins
silently on first contact.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from securemode.console.errors import NodeUnreachable
from securemode.console.runner import run_sync
from securemode.paths import state_dir


def host_pattern(host: str, port: int) -> str:
    """The known_hosts name of ``host:port`` (bare host for port 22, else ``[host]:port``)."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class PinnedKey:
    host: str
    port: int
    public_key: str  # "<type> <base64>"

    @property
    def fingerprint(self) -> str:
        return str(asyncssh.import_public_key(self.public_key).get_fingerprint("sha256"))

    def known_hosts_line(self) -> str:
        return f"{host_pattern(self.host, self.port)} {self.public_key}"


def default_path() -> Path:
    return state_dir() / "pins" / "console_known_hosts"


class HostKeyPins:
    """Read and record pinned host keys; one entry per ``host:port``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def get(self, host: str, port: int) -> PinnedKey | None:
        pattern = host_pattern(host, port)
        for line in self._lines():
            name, _, key = line.partition(" ")
            if name == pattern and key:
                return PinnedKey(host, port, " ".join(key.split()[:2]))
        return None

    def pin(self, host: str, port: int, public_key: str) -> PinnedKey:
        """Record ``public_key`` for ``host:port``, replacing an earlier pin (an explicit, approved act)."""
        key = asyncssh.import_public_key(public_key)
        kind, blob = key.export_public_key("openssh").decode().split()[:2]
        entry = PinnedKey(host, port, f"{kind} {blob}")
        pattern = host_pattern(host, port)
        kept = [line for line in self._lines() if line.partition(" ")[0] != pattern]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(f"{line}\n" for line in [*kept, entry.known_hosts_line()]), encoding="utf-8")
        os.replace(tmp, self.path)
        return entry

    def forget(self, host: str, port: int) -> bool:
        """Drop the pin of ``host:port`` (the node was rebuilt on purpose); True when there was one."""
        pattern = host_pattern(host, port)
        lines = self._lines()
        kept = [line for line in lines if line.partition(" ")[0] != pattern]
        if len(kept) == len(lines):
            return False
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        os.replace(tmp, self.path)
        return True

    def _lines(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


async def _fetch(host: str, port: int, timeout_s: float) -> str:
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(host, port), timeout_s)
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        raise NodeUnreachable(f"no SSH service answered on {host}:{port}: {type(exc).__name__}") from None
    if key is None:
        raise NodeUnreachable(f"{host}:{port} presented no host key")
    return key.export_public_key("openssh").decode().strip()


def fetch_host_key(host: str, port: int, timeout_s: float = 5.0) -> PinnedKey:
    """The key the node presents now (untrusted: only for showing in an approval and then pinning)."""
    line = run_sync(_fetch(host, port, timeout_s))
    return PinnedKey(host, port, " ".join(line.split()[:2]))
