"""A rebuilt node's pins are dropped with a command, and every pin-mismatch fix names that command."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest

from securemode.console.access import console_endpoint, console_pins
from securemode.pexip.trust import record_pin, recorded_pin
from securemode.site_loader import load_site
from tests.unit.sites import EXAMPLE, set_secrets
from tests.unit.test_cli import run

REPO = Path(__file__).resolve().parents[2]


def test_forget_pins_drops_the_web_and_console_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    loaded = load_site(EXAMPLE)
    address = str(loaded.site.management_node.address)
    record_pin(loaded, address, "ab" * 32, source="test")
    endpoint = console_endpoint(loaded)
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    console_pins(loaded).pin(endpoint.host, endpoint.port, key)

    proc = run("forget-pins", "--site", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert f"forgotten: HTTPS certificate pin of {address}" in proc.stdout
    assert f"forgotten: console host-key pin of {endpoint.host}:{endpoint.port}" in proc.stdout
    assert recorded_pin(loaded, address) is None
    assert console_pins(loaded).get(endpoint.host, endpoint.port) is None
    again = run("forget-pins", "--site", str(EXAMPLE))
    assert again.returncode == 0 and "no pins recorded for this site" in again.stdout


def test_no_message_suggests_a_python_function_as_the_fix() -> None:
    """User-facing fixes are commands: no `module.function` paths in the text of messages."""
    offenders = []
    for path in [*REPO.glob("securemode/**/*.py"), *REPO.glob("tasks/**/*.py"), *REPO.glob("flows/*.py"),
                 *REPO.glob("verifiers/**/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith(("#", "from ", "import ")) or '"""' in line:
                continue
            for literal in re.findall(r'f?"([^"]*)"', line):
                if re.search(r"\((securemode|tasks|verifiers|flows)\.[a-z_.]+\)|\b(call|run|use) "
                             r"(securemode|tasks|verifiers|flows)\.[a-z_]+\.[a-z_]+", literal):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {literal}")
    assert offenders == []
