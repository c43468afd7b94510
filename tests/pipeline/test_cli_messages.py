"""What the CLI says: a gated step without approval is "planned, not applied" and names its flag; every
command's --help lists its options (the lab's own parser too)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from securemode.cli.driver import drive
from tests.unit.test_cli import run as cli

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_unapproved_gated_step_is_planned_not_applied_and_names_the_flag(site: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    code = drive(site, ["host"], "run", [], [], None, None, interactive=False, console=console)
    said = buffer.getvalue()
    assert code == 1  # the exit code: not compliant
    assert "host/options: 2 setting(s) changed" in said
    assert "host/lockdown: 1 planned, not applied" in said
    assert "host/lockdown: 1 setting(s) changed" not in said
    assert ("skipped: host.lockdown: not approved, nothing applied; to apply it, run again with --approve "
            "host.lockdown (or approve it in the Prefect UI).") in said
    assert "lockdown: None → 'lockdownNormal' (would change)" in said


@pytest.mark.parametrize(("args", "options"), [
    (["lab", "--help"], ["up", "down", "status"]),
    (["lab", "up", "--help"], ["--nodes", "--profile", "--sync-interval", "--block", "--no-netns", "--json"]),
    (["lab", "status", "--help"], ["--json"]),
    (["run", "--help"], ["--site", "--stage", "--approve", "--attest", "--approver", "--report"]),
    (["serve", "--help"], ["--site"]),
])
def test_help_lists_the_options(args: list[str], options: list[str]) -> None:
    shown = cli(*args)
    assert shown.returncode == 0, shown.stderr
    for option in options:
        assert option in shown.stdout, (args, option, shown.stdout)
