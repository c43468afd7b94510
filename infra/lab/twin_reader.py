"""A node process's connection to the Management Node twin's state: opened once the twin has seeded it.

Node agents start in parallel with the twin, so the state folder may not exist yet; every read
returns None until it does (the agent simply tries again at its next sync). The folder is followed by its
path: when the Management Node is redeployed (a new VM boots an empty disk, :mod:`securemode.infra.lab.vm_disks`)
the old folder is moved aside and a new one seeded, and the reader moves on to it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from securemode.infra.twin.state.settings import SecuritySettings
from securemode.infra.twin.state.twin_state import DB_NAME, TwinState


class TwinReader:
    """Lazy, read-mostly access to one twin state folder (shared with the twin process through SQLite WAL)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._state: TwinState | None = None
        self._identity: tuple[int, int] | None = None

    def _current_identity(self) -> tuple[int, int] | None:
        try:
            info = (self.state_dir / DB_NAME).stat()
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def _open(self) -> TwinState | None:
        identity = self._current_identity()
        if self._state is not None and identity != self._identity:  # the folder was replaced: a new disk
            self.close()
        if self._state is None:
            if identity is None:
                return None
            state = TwinState(self.state_dir)
            if not state.seeded:
                state.close()
                return None
            self._state, self._identity = state, identity
        return self._state

    @property
    def state(self) -> TwinState | None:
        """The opened state, or None while the twin has not seeded it yet."""
        try:
            return self._open()
        except sqlite3.Error:
            return None

    def node_config(self, name: str) -> dict[str, Any] | None:
        state = self.state
        return state.node_config(name) if state else None

    def security_settings(self) -> SecuritySettings | None:
        state = self.state
        return state.security_settings() if state else None

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None
            self._identity = None
