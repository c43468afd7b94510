"""The command line, run as a user runs it: a subprocess of the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.sites import EXAMPLE, SECRET_ENV, example_document, write_site

SECUREMODE = str(Path(sys.executable).with_name("securemode"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECUREMODE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **SECRET_ENV, **(env or {})})


def test_help_lists_the_commands() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for command in ("controls", "validate", "lab", "plan", "run", "verify", "report", "failover", "rebuild", "serve"):
        assert command in proc.stdout


def test_validate_good_site() -> None:
    proc = run("validate", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert "valid — site 'example', 1 management node, 2 conferencing node(s)" in proc.stdout


def test_validate_vlan_4095_and_one_ntp_server_names_both(tmp_path: Path) -> None:
    doc = example_document()
    doc["management_node"]["vlan"] = 4095
    doc["ntp_servers"] = doc["ntp_servers"][:1]
    proc = run("validate", str(write_site(tmp_path, doc)))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("  - ")]
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("  - management_node.vlan: VLAN 4095")
    assert lines[1].startswith("  - ntp_servers: 1 NTP server(s) given")


def test_validate_missing_file() -> None:
    proc = run("validate", "/nonexistent/site.yaml")
    assert proc.returncode == 2
    assert "cannot read the site file" in proc.stderr and "Traceback" not in proc.stderr


def test_controls_lists_guide_and_stig() -> None:
    proc = run("controls", "--json")
    assert proc.returncode == 0
    ids = [c["id"] for c in json.loads(proc.stdout)]
    assert "bootstrap.wizard.tls10" in ids and "host.stig.ESXI-80-000193" in ids
    table = run("controls", "--stage", "bootstrap")
    assert "bootstrap.wizard.fips" in table.stdout
    assert run("controls", "--stage", "nope").returncode == 2


def test_rebuild_with_env_credentials_exits_2_naming_each_field_before_anything_runs() -> None:
    proc = run("rebuild", "--site", str(EXAMPLE), "--reason", "test")
    assert proc.returncode == 2, proc.stderr
    assert "management_node.admin_password: is env:SM_ADMIN_PASSWORD" in proc.stderr
    assert "snmp.community: is env:SM_SNMP_COMMUNITY" in proc.stderr
    assert "Fix: point it at a file: or prefect-secret: reference" in proc.stderr
    assert "Prefect UI" not in proc.stdout and "Traceback" not in proc.stderr
    assert SECRET_ENV["SM_ADMIN_PASSWORD"] not in proc.stderr + proc.stdout


def test_rebuild_of_an_unknown_node_exits_2_naming_the_nodes() -> None:
    proc = run("rebuild", "--site", str(EXAMPLE), "--reason", "test", "--node", "nope")
    assert proc.returncode == 2
    assert "nodes: nope is not a node of the primary deployment" in proc.stderr


def test_run_with_a_bad_site_exits_2_before_touching_anything(tmp_path: Path) -> None:
    doc = example_document()
    doc["snmp"]["community"] = "env:SM_PUBLIC_COMMUNITY"
    proc = run("run", "--site", str(write_site(tmp_path, doc)), env={"SM_PUBLIC_COMMUNITY": "public"})
    assert proc.returncode == 2
    assert "snmp.community: the community is 'public'" in proc.stderr


def test_unknown_stage_is_named() -> None:
    proc = run("plan", "--site", str(EXAMPLE), "--stage", "hots")
    assert proc.returncode == 2
    assert "--stage: unknown stage 'hots'" in proc.stderr
