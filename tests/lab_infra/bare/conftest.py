"""A bare lab of this folder's own (its tests install the Management Node), in its own state folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securemode.infra.lab.lifecycle import UpOptions
from securemode.infra.lab.pytest_fixture import RunningLab
from tests.own_lab import lab_of_its_own


@pytest.fixture(scope="module")
def bare_lab() -> Iterator[RunningLab]:
    with lab_of_its_own(
        UpOptions(nodes=1, profile="bare", sync_interval_s=0.5),
        "securemode-bare-",
        "the bare lab's nodes answer at their namespace addresses on ports 22/443 (needs root)",
    ) as lab:
        yield lab
