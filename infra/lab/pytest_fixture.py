"""A running lab for a whole pytest session, shared by every test folder that imports the fixture.

Use it in a conftest.py::

    from securemode.infra.lab.pytest_fixture import lab  # noqa: F401

or as a plugin (``pytest_plugins = ["securemode.infra.lab.pytest_fixture"]``). The fixture starts the lab with
``lab up`` semantics in the session's state folder (``SECUREMODE_STATE_DIR``: tests/conftest.py
points it at a temporary folder) and stops it with ``lab down`` at the end of the session. If a lab
already runs in that state folder (another conftest's copy of the fixture, or a developer's
``securemode lab up`` with the same state folder) it is reused and left running.

Configuration (environment): ``SECUREMODE_LAB_NODES`` (conferencing nodes, default 2),
``SECUREMODE_LAB_SYNC_S`` (replication delay, default 0.5 s so tests that change the Management
Node's configuration see the nodes follow quickly) and ``SECUREMODE_LAB_CONTINGENCY=1`` (a fallback
deployment too, as ``lab up --contingency``; :func:`start_session_lab` takes ``contingency=True`` as
well, and :class:`UpOptions` ``contingency`` for a lab of a test's own). Needs root for the namespace
(closed-port behaviour) and the well-known ports; without root the lab still starts on free ports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.infra.lab.manifest import Manifest, Part
from securemode.infra.lab.secret_files import SecretFiles
from securemode.site_loader import LoadedSite, load_site


@dataclass
class RunningLab:
    """The session's lab: its manifest, secrets and the site file; helpers for tests."""

    manifest: Manifest
    started_here: bool

    @property
    def site_file(self) -> Path:
        return self.manifest.site_file

    def site(self) -> LoadedSite:
        return load_site(self.site_file)

    def secret(self, name: str) -> str:
        """A lab secret by file name (``admin-password``, ``snmp-auth-password``, ``ntp-key-1`` …)."""
        return SecretFiles(self.manifest.secrets_dir).read(name)

    def part(self, name: str) -> Part:
        return self.manifest.parts[name]

    def node(self, name: str) -> dict[str, Any]:
        return self.manifest.node(name)

    def _manager(self) -> dict[str, Any]:
        """The Management Node's facts: the twin's, or (bare lab) the power watcher's, which boots it."""
        parts = self.manifest.parts
        return (parts["twin"] if "twin" in parts else parts["power"]).facts

    @property
    def admin(self) -> tuple[str, str]:
        return str(self._manager()["admin_username"]), self.secret("admin-password")

    @property
    def api_base(self) -> str:
        """The Management API at the manager's site address (what its host-header check accepts)."""
        facts = self._manager()
        return str(facts.get("site_url") or facts["base_url"])

    def fallback_node(self, name: str) -> dict[str, Any]:
        """A node of the fallback deployment (``lab up --contingency``), e.g. ``mgr-c``."""
        for node in self.manifest.fallback_nodes:
            if node["name"] == name:
                return node
        raise KeyError(f"no fallback node {name!r}; the lab has {[n['name'] for n in self.manifest.fallback_nodes]}")

    @property
    def api_fingerprint(self) -> str:
        return str(self.part("twin").facts["fingerprint_sha256"])


CONTINGENCY_ENV = "SECUREMODE_LAB_CONTINGENCY"


def start_session_lab(*, contingency: bool | None = None) -> RunningLab:
    """``lab up`` with the session's settings; ``contingency`` (default: the environment) plans the fallback."""
    if contingency is None:
        contingency = os.environ.get(CONTINGENCY_ENV, "") not in ("", "0")
    options = UpOptions(
        nodes=int(os.environ.get("SECUREMODE_LAB_NODES", "2")),
        sync_interval_s=float(os.environ.get("SECUREMODE_LAB_SYNC_S", "0.5")),
        contingency=contingency,
    )
    result = up(options)
    return RunningLab(result.manifest, started_here=not result.already_running)


@pytest.fixture(scope="session")
def lab() -> Iterator[RunningLab]:
    """The lab, up for the whole session (see the module docstring)."""
    running = start_session_lab()
    try:
        yield running
    finally:
        if running.started_here:
            down()
