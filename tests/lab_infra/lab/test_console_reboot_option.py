"""The console's reboot delay is the lab's to choose (no lab needed): `lab up --reboot-delay` reaches the
console's command line, and a negative delay is refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from securemode.infra.lab.node_processes import DEFAULT_REBOOT_DELAY_S, console_spec
from securemode.infra.lab.plan import make_plan
from securemode.infra.lab_cli import EXIT_USAGE, run_lab_command


def delay_of(args: tuple[str, ...]) -> float:
    return float(args[args.index("--reboot-delay") + 1])


def test_the_reboot_delay_reaches_the_console(tmp_path: Path) -> None:
    plan = make_plan(1, 200, root=True)
    assert delay_of(console_spec(plan, tmp_path, tmp_path / "twin", None).args) == DEFAULT_REBOOT_DELAY_S
    assert delay_of(console_spec(plan, tmp_path, tmp_path / "twin", None, 2.5).args) == 2.5


def test_a_negative_reboot_delay_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_lab_command(["up", "--reboot-delay", "-1"]) == EXIT_USAGE
    assert "--reboot-delay must not be negative" in capsys.readouterr().err
