"""A stage run loads the site once, and a gated step applies exactly the plan a person approved: when the
world moves between approval and apply, the new plan is put to the gate again instead."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

import securemode.flows.stage
from securemode.catalogue import Stage
from securemode.engine import NoApprovals
from securemode.flows.stage import run_stage
from securemode.outcome import StageOutcome
from securemode.reports.model import Approval
from securemode.site_loader import LoadedSite, load_site

pytestmark = pytest.mark.usefixtures("prefect_api")


class WorldMovesWhileAsked(NoApprovals):
    """Approves every plan; while the first one is on screen, someone changes the device by hand."""

    def __init__(self, device: Path) -> None:
        self.device = device
        self.asked: list[str] = []

    def approve(self, step: str, summary: str) -> Approval | None:
        self.asked.append(summary)
        if len(self.asked) == 1:
            state = json.loads(self.device.read_text())
            self.device.write_text(json.dumps({**state, "lockdown": "lockdownDisabled"}))
        return Approval(step=step, who="alice", note="", at=datetime.now(UTC))


def test_a_moved_world_is_planned_and_approved_again_and_the_site_loaded_once(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_site(site)
    loads: list[Any] = []
    real_load = securemode.flows.stage.load_site

    def counting_load(path: Path) -> LoadedSite:
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(securemode.flows.stage, "load_site", counting_load)
    gate = WorldMovesWhileAsked(site.parent / "device.json")

    @flow(name="gated-step-once")
    def host_stage() -> StageOutcome:
        return run_stage(
            loaded, Stage.HOST, apply=True, verify=True, gate=gate, approve=[], attest=[], approver="", report_dir=None
        )

    outcome = host_stage()
    assert loads == []  # every task used the stage run's loaded site
    assert gate.asked == [
        "host.stig.ESXI-80-000008 [device] lockdown: None → 'lockdownNormal' (would change)",
        "host.stig.ESXI-80-000008 [device] lockdown: 'lockdownDisabled' → 'lockdownNormal' (would change)",
    ]
    lockdown = [c for c in outcome.changes if c.setting == "lockdown"]
    assert [(c.current, c.applied) for c in lockdown] == [("lockdownDisabled", True)]
    assert json.loads((site.parent / "device.json").read_text())["lockdown"] == "lockdownNormal"
    assert [a.who for a in outcome.approvals] == ["alice", "alice"]
