"""Labs of this folder's own started with ``contingency=True`` (``lab up --contingency``), in their own state
folders: the tests create and power the fallback's VMs behind the engine's back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from tests.own_lab import lab_of_its_own

NEEDS_ROOT = "the fallback nodes answer at their namespace addresses on ports 22/443 (needs root)"


@pytest.fixture(scope="module")
def fallback_lab() -> Iterator[RunningLab]:
    """A deployed (bootstrapped) primary and a fallback with nothing running until its VMs are powered on."""
    options = UpOptions(nodes=1, profile="bootstrapped", sync_interval_s=0.5, contingency=True)
    with lab_of_its_own(options, "securemode-fallback-", NEEDS_ROOT) as lab:
        yield lab


@pytest.fixture(scope="module")
def bare_fallback_lab() -> Iterator[RunningLab]:
    """A bare lab with a fallback: both deployments power-driven, each by its own watcher."""
    options = UpOptions(nodes=1, profile="bare", sync_interval_s=0.5, contingency=True)
    with lab_of_its_own(options, "securemode-bare-fallback-", NEEDS_ROOT) as lab:
        yield lab
