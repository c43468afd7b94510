"""How the end-to-end tests drive the product: the pipeline as the lab's operator runs it, the command line
in the lab's state folder, and what a stage's verifiers say fails."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from securemode.catalogue import Stage
from securemode.flows import stages
from securemode.flows.pipeline import PipelineOutcome, run_pipeline
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.results import Status
from securemode.site_loader import LoadedSite
from tests.polling import wait_until

APPROVER = "e2e test"
GATES = [
    "host.lockdown",
    "bootstrap.pin-console-host-key",
    "bootstrap.pin-web-certificate",
    "bootstrap.securitywizard",
    "auth.require-client-certificate",
    "auth.ldap-only",
]
# MANUAL controls no probe can establish (a BIOS password, settings the console does not echo back): the test
# attests them so the pipeline may go on, and so never asserts that they hold; see test_manual_controls_*.
ATTEST = [
    "vms.bios.supervisor-password",
    "bootstrap.wizard.web-sessions",
    "bootstrap.wizard.icmpv6-redirects",
    "bootstrap.wizard.icmpv6-multicast-echo",
    "bootstrap.wizard.ipv6-dad",
    "bootstrap.wizard.anon-dh",
    "nodes.bios.supervisor-password",
]
BAD = {Status.FAIL, Status.ERROR}
SECUREMODE = str(Path(sys.executable).with_name("securemode"))
NODE_PULL_S = 30.0  # a conferencing node follows a configuration change when it next pulls (every 0.5 s here)

Failing = set[tuple[str, str]]


@dataclass
class SharedLab:
    """A lab several modules share, and the outcome of the whole run that converged it (None while fresh)."""

    lab: RunningLab
    outcome: PipelineOutcome | None = None

    @property
    def fresh(self) -> bool:
        return self.outcome is None


def run(lab: RunningLab, report: Path | None = None, stage_names: list[str] | None = None) -> PipelineOutcome:
    """The pipeline as `bin/main` runs it on the lab: every gate approved, the MANUAL controls attested."""
    return run_pipeline(
        site_path=str(lab.site_file),
        stage_names=stage_names,
        mode="run",
        approve=GATES,
        attest=ATTEST,
        approver=APPROVER,
        report_dir=str(report) if report else None,
    )


def cli(lab: RunningLab, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it, in the lab's state folder (its Prefect server is started there
    on first use and stopped with the lab)."""
    env = {**os.environ, "SECUREMODE_STATE_DIR": str(lab.manifest.lab_dir.parent)}
    return subprocess.run([SECUREMODE, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def status_lines(output: str) -> dict[str, str]:
    """`lab status` lines by part name, blanks collapsed: {"twin": "up twin (HTTPS, site CA) API …"}."""
    lines = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] in ("up", "DOWN"):
            lines[words[1]] = " ".join(words)
    return lines


def failing(loaded: LoadedSite, stage: Stage) -> Failing:
    """(control, target) of every FAIL or ERROR of ``stage`` now."""
    return {(r.control, r.target) for r in stages.load(stage).verify(loaded) if r.status in BAD}


def failing_once_it_shows(loaded: LoadedSite, stage: Stage, expected: Failing) -> Failing:
    """Everything failing in ``stage`` once ``expected`` does: the nodes follow a change when they next pull."""

    def shown() -> Failing | None:
        found = failing(loaded, stage)
        if not expected <= found:
            return None
        # Twice the same: a node restarting a listener for the change fails a probe for a moment too.
        return found if failing(loaded, stage) == found else None

    return wait_until(shown, timeout=NODE_PULL_S, interval=0.5, what=f"{sorted(expected)} failing")
