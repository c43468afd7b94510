"""Changing the lab Management Node's configuration under a test, and how long the nodes take to follow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.twin.state.twin_state import TwinState


def settle(lab: RunningLab) -> float:
    """How long a change on the Management Node may take to reach the nodes and the namespace firewall."""
    return 5 + 4 * lab.manifest.sync_interval_s


@contextlib.contextmanager
def security_settings(lab: RunningLab, **changes: Any) -> Iterator[None]:
    """Security-wizard answers in effect for the block (what the console's boot applies), then the old ones."""
    state = TwinState(lab.part("twin").facts["state_dir"])
    original = state.security_settings()
    state.set_security_settings(original.updated(**changes))
    try:
        yield
    finally:
        state.set_security_settings(original)
        state.close()
