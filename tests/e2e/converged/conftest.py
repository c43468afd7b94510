"""One lab for the tests that need a converged deployment, brought up once for this folder.

The modules run in their file order: the first proves plan and run agree on the fresh lab, and its run is the
convergence the others read (a module run alone converges the lab itself); the second reads the converged lab
and puts back what it changes, but for what its last cases leave broken (conf02's expired certificate, the
first NTP server and the syslog receiver stopped); the last stops the lab's parts one by one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securemode.flows.pipeline import PipelineOutcome
from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from tests.e2e.pipeline_runs import SharedLab, run
from tests.own_lab import lab_of_its_own


@pytest.fixture(scope="package")
def shared() -> Iterator[SharedLab]:
    with lab_of_its_own(UpOptions(nodes=2, sync_interval_s=0.5), "securemode-e2e-") as lab:
        yield SharedLab(lab)


@pytest.fixture(scope="package")
def lab(shared: SharedLab) -> RunningLab:
    return shared.lab


@pytest.fixture(scope="package")
def converged(shared: SharedLab, tmp_path_factory: pytest.TempPathFactory) -> PipelineOutcome:
    """The outcome of the run that converged the lab (made by the plan/run test when it ran first)."""
    if shared.outcome is None:
        shared.outcome = run(shared.lab, tmp_path_factory.mktemp("report"))
    return shared.outcome
