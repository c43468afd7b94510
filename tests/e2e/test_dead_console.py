"""The console stopped while it still serves something (installed, security wizard not yet run): its
controls are ERROR — an SSH relay that accepts and closes proves nothing about the admin login."""

from __future__ import annotations

import pytest

from securemode.catalogue import Stage
from securemode.flows import stages
from securemode.flows.pipeline import run_pipeline
from securemode.infra.lab import processes
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.results import Status
from tests.e2e.pipeline_runs import APPROVER, ATTEST, GATES

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
CONSOLE_CONTROLS = ("bootstrap.install.admin-password", "bootstrap.wizard.disable-admin")


def console_results(lab: RunningLab) -> dict[str, tuple[Status, str]]:
    results = stages.load(Stage.BOOTSTRAP).verify(lab.site())
    return {r.control: (r.status, r.message) for r in results if r.control in CONSOLE_CONTROLS}


def test_stopped_console_is_error(own_lab: RunningLab) -> None:
    without_wizard = [g for g in GATES if g != "bootstrap.securitywizard"]
    run_pipeline(site_path=str(own_lab.site_file), stage_names=["host", "vms", "bootstrap"], mode="run",
                           approve=without_wizard, attest=ATTEST, approver=APPROVER)
    alive = console_results(own_lab)
    assert alive["bootstrap.install.admin-password"][0] is Status.PASS, alive
    assert alive["bootstrap.wizard.disable-admin"][0] is Status.FAIL, alive  # the wizard has not run
    identity = own_lab.part("console").process
    assert identity is not None and processes.stop(identity)
    dead = console_results(own_lab)
    assert {c: s for c, (s, _) in dead.items()} == dict.fromkeys(CONSOLE_CONTROLS, Status.ERROR), dead
