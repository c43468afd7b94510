"""A lab of one end-to-end module's own (they change it for good: lockdown, the security wizard), in its own
state folder, so the session's shared lab (tests/lab_infra/lab) is not affected. The modules that need a
converged lab share one: see converged/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from tests.own_lab import lab_of_its_own


@pytest.fixture(scope="module")
def own_lab() -> Iterator[RunningLab]:
    with lab_of_its_own(UpOptions(nodes=2, sync_interval_s=0.5), "securemode-e2e-") as lab:
        yield lab
