"""A bare lab of this folder's own (its tests install the Management Node), in its own state folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.paths import STATE_ENV


@pytest.fixture(scope="module")
def bare_lab() -> Iterator[RunningLab]:
    if os.geteuid() != 0:
        pytest.skip("the bare lab's nodes answer at their namespace addresses on ports 22/443 (needs root)")
    saved = os.environ[STATE_ENV]
    os.environ[STATE_ENV] = tempfile.mkdtemp(prefix="securemode-bare-")
    try:
        result = up(UpOptions(nodes=1, profile="bare", sync_interval_s=0.5))
        yield RunningLab(result.manifest, started_here=True)
    finally:
        down()
        os.environ[STATE_ENV] = saved
