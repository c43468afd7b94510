"""`plan` and `run` agree: on a fresh lab, every change a plan predicts from a value it read is made by the run
that follows, and the run makes no change the plan did not show. A change whose current value the plan could
not read (the security wizard's rows before the console host key is pinned) is shown as conditional ("would
change if it differs") and may turn out to be in place already.

That run is the convergence the other modules of this folder then read."""

from __future__ import annotations

from pathlib import Path

import pytest

from securemode.flows.pipeline import run_pipeline
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES, SharedLab, run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def _key(stage: str, control: str, target: str, setting: str) -> tuple[str, str, str, str]:
    return stage, control, target, setting


def test_plan_predicts_what_the_run_then_changes(shared: SharedLab, tmp_path: Path) -> None:
    assert shared.fresh, "plan and run must meet a fresh lab: this module runs first in its folder"
    site = str(shared.lab.site_file)
    plan = run_pipeline(site_path=site, mode="plan", approve=GATES, attest=ATTEST, approver=APPROVER)
    done = shared.outcome = run(shared.lab, tmp_path / "report")
    assert done.compliant(), done.problems
    assert (
        [s.stage for s in plan.stages]
        == [s.stage for s in done.stages]
        == ["host", "vms", "bootstrap", "nodes", "pki", "platform", "auth", "contingency"]
    )
    planned = {_key(s.stage, c.control, c.target, c.setting) for s in plan.stages for c in s.changes if c.current_known}
    conditional = {
        _key(s.stage, c.control, c.target, c.setting) for s in plan.stages for c in s.changes if not c.current_known
    }
    made = {_key(s.stage, c.control, c.target, c.setting) for s in done.stages for c in s.changes if c.applied}
    assert any(stage == "bootstrap" for stage, *_ in planned)
    assert all(key[3].startswith("security_settings.") for key in conditional), sorted(conditional)
    assert planned <= made, {"planned, not made": sorted(planned - made)}
    assert made <= planned | conditional, {"made, not planned": sorted(made - planned - conditional)}
