"""`securemode lab up | status | down` through the real CLI, in a state folder of its own."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import yaml

from securemode.infra.lab.manifest import Manifest
from securemode.infra.lab.processes import is_running, stop
from tests.conftest import REPO

CLI = REPO / ".venv" / "bin" / "securemode"


def run(state: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SECUREMODE_STATE_DIR": str(state)}
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def site_line(output: str) -> Path:
    lines = [ln for ln in output.splitlines() if ln.startswith("site: ")]
    assert len(lines) == 1, output
    return Path(lines[0].removeprefix("site: "))


def test_up_status_second_up_down_leave_nothing_behind(tmp_path: Path) -> None:
    t0 = time.monotonic()
    started = run(tmp_path, "lab", "up", "--nodes", "1", "--sync-interval", "1", "--timings")
    up_wall = time.monotonic() - t0
    try:
        assert started.returncode == 0, started.stderr
        assert "started: yes" in started.stdout.splitlines()
        site = site_line(started.stdout)
        manifest = Manifest.from_dict(json.loads((tmp_path / "lab" / "manifest.json").read_text()))
        assert up_wall < 20, f"lab up took {up_wall:.1f}s"  # the budget is 10 s; a loaded CI machine gets slack
        assert run(tmp_path, "validate", str(site)).returncode == 0
        document = yaml.safe_load(site.read_text())
        community = document["snmp"]["community"]
        assert community.startswith("file:") and os.stat(community.removeprefix("file:")).st_mode & 0o777 == 0o600

        status = run(tmp_path, "lab", "status")
        assert status.returncode == 0, status.stdout
        assert site_line(status.stdout) == site

        again = run(tmp_path, "lab", "up")
        assert again.returncode == 0 and "already running" in again.stdout
        assert "started: no" in again.stdout.splitlines()  # bin/main then leaves the lab running
        assert json.loads((tmp_path / "lab" / "manifest.json").read_text())["created"] == manifest.created

        dns2 = manifest.parts["dns2"].process
        assert dns2 is not None and stop(dns2)
        degraded = run(tmp_path, "lab", "status")
        assert degraded.returncode == 1 and "DOWN  dns2" in degraded.stdout
        up_degraded = run(tmp_path, "lab", "up")
        assert up_degraded.returncode == 1, up_degraded.stdout
        assert "the lab runs degraded: dns2 stopped. Fix: securemode lab down && securemode lab up" in \
            up_degraded.stderr
    finally:
        stopped = run(tmp_path, "lab", "down")
    assert stopped.returncode == 0, stopped.stderr
    identities = [p.process for p in manifest.parts.values() if p.process is not None]
    assert len(identities) == len(manifest.parts) >= 10
    assert [i for i in identities if is_running(i)] == []
    if manifest.netns:
        assert not (Path("/run/netns") / manifest.netns["name"]).exists()
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
        assert manifest.netns["host_ifname"] not in links
    assert not site.exists() and not (tmp_path / "lab" / "manifest.json").exists()
    assert run(tmp_path, "lab", "status").returncode == 1


def test_a_new_lab_on_the_same_block_is_a_new_site(tmp_path: Path) -> None:
    """Pins and ledgers are kept per site name: a lab brought up again must not inherit the last one's."""
    names: list[str] = []
    block: list[str] = []
    for _ in range(2):
        started = run(tmp_path, "lab", "up", "--nodes", "1", "--no-console", *block)
        try:
            assert started.returncode == 0, started.stderr
            names.append(yaml.safe_load(site_line(started.stdout).read_text())["name"])
            block = ["--block", str(json.loads((tmp_path / "lab" / "manifest.json").read_text())["block"])]
        finally:
            assert run(tmp_path, "lab", "down").returncode == 0
    assert names[0] != names[1] and all(n.startswith("lab-") for n in names)


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "lab", "up", "--nodes", "0").returncode == 2
    assert run(tmp_path, "lab", "sideways").returncode == 2
    assert not (tmp_path / "lab" / "manifest.json").exists()
