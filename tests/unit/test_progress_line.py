"""The progress line says what a step applied, never what it only planned."""

from __future__ import annotations

import io

from rich.console import Console

from securemode.cli.driver import ConsoleProgress, step_line


def test_a_run_that_applied_nothing_does_not_claim_changes() -> None:
    assert step_line("run", 9, 0) == "9 planned, not applied"
    assert step_line("run", 9, 4) == "4 setting(s) changed, 5 planned, not applied"
    assert step_line("run", 9, 9) == "9 setting(s) changed"
    assert step_line("run", 0, 0) == "ok"
    assert step_line("plan", 3, 0) == "3 setting(s) would change"


def test_the_cli_listener_prints_the_applied_count() -> None:
    out = io.StringIO()
    ConsoleProgress(Console(file=out, width=200), "run").step_finished("bootstrap", "security-wizard", 9, 0)
    assert "9 setting(s) changed" not in out.getvalue()
    assert "bootstrap/security-wizard: 9 planned, not applied" in out.getvalue()
