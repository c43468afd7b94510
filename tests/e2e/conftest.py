"""A lab of one end-to-end module's own (they change it for good: lockdown, the security wizard), in its own
state folder, so the session's shared lab (tests/lab_infra/lab) is not affected. The modules that need a
converged lab share one: see converged/conftest.py."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from securemode.deployments import prefect_server
from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.paths import STATE_ENV


@pytest.fixture(scope="module")
def own_lab() -> Iterator[RunningLab]:
    if os.geteuid() != 0:
        pytest.skip("the end-to-end lab needs root (network namespace, ports 22/161/443)")
    saved = os.environ[STATE_ENV]
    os.environ[STATE_ENV] = tempfile.mkdtemp(prefix="securemode-e2e-")
    try:
        result = up(UpOptions(nodes=2, sync_interval_s=0.5))
        yield RunningLab(result.manifest, started_here=True)
    finally:
        down()
        prefect_server.stop()  # the one a CLI test started in this state folder, if any
        os.environ[STATE_ENV] = saved
