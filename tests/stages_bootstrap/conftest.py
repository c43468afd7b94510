"""A lab Management Node on its own loopback address — console on 22, HTTPS on 443 — and a site for it.

Binding ports below 1024 needs root, as the lab itself does; without root these tests skip.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from securemode.infra.console import ConsoleServer
from securemode.infra.console.node import BootReport
from securemode.infra.twin import TwinConfig, TwinManagementNode, pki
from securemode.site_loader import LoadedSite, load_site
from tests.unit.sites import SECRET_ENV, example_document, set_secrets, write_site

FAST = TwinConfig(self_signed_key_bits=2048, password_hash_iterations=1000)
ALL_GATES = {"bootstrap.pin-console-host-key", "bootstrap.pin-web-certificate", "bootstrap.securitywizard"}
ADMIN_PASSWORD = SECRET_ENV["SM_ADMIN_PASSWORD"]


@dataclass
class LabNode:
    """The console twin plus the HTTPS twin it boots after the installation wizard."""

    address: str
    state_dir: Path
    console: ConsoleServer | None = None
    https: TwinManagementNode | None = None
    boots: list[BootReport] = field(default_factory=list)

    def start(self) -> LabNode:
        self.console = ConsoleServer(self.state_dir, self.address, 22, config=FAST, reboot_delay_s=0.2,
                                     on_reboot=self._booted).start()
        self._booted(None)
        return self

    def _booted(self, report: BootReport | None) -> None:
        if report is not None:
            self.boots.append(report)
        assert self.console is not None
        if self.console.node.installed() and self.https is None:
            self.https = TwinManagementNode(self.state_dir, self.address, 443, config=FAST).start()

    def stop(self) -> None:
        if self.https is not None:
            self.https.stop()
        if self.console is not None:
            self.console.stop()


@pytest.fixture
def lab_node(tmp_path: Path) -> Iterator[LabNode]:
    if os.geteuid() != 0:
        pytest.skip("the lab node listens on ports 22 and 443 of its own loopback address (needs root)")
    address = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 250)}"
    node = LabNode(address, tmp_path / "node").start()
    yield node
    node.stop()


@pytest.fixture
def site(lab_node: LabNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    monkeypatch.setenv("SECUREMODE_STATE_DIR", str(tmp_path / "engine-state"))
    ca_pem, _ = pki.self_signed("Lab Root CA", ["lab-root"], 2048)
    (tmp_path / "ca").mkdir()
    for name in ("root.pem", "intermediate.pem"):
        (tmp_path / "ca" / name).write_text(ca_pem)
    doc = example_document()
    doc["management_node"].update({"address": lab_node.address, "gateway": lab_node.address})
    doc["conferencing_nodes"] = []  # no conferencing node runs here (and the example's addresses are not local)
    doc["dns_servers"] = ["127.0.0.53", "127.0.0.54"]
    return load_site(write_site(tmp_path, doc))
