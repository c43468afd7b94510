"""A lab of a test module's own, in a state folder of its own, so the session's shared lab is not affected."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from securemode.deployments import prefect_server
from securemode.infra.lab.lifecycle import UpOptions, down, up
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.paths import STATE_ENV

NEEDS_ROOT = "the end-to-end lab needs root (network namespace, ports 22/161/443)"


@contextmanager
def lab_of_its_own(options: UpOptions, prefix: str, needs_root: str = NEEDS_ROOT) -> Iterator[RunningLab]:
    """Bring the lab up in a fresh state folder; take it down after, with any Prefect server a CLI test
    started in that folder, and give the caller its state folder back."""
    if os.geteuid() != 0:
        pytest.skip(needs_root)
    saved = os.environ[STATE_ENV]
    os.environ[STATE_ENV] = tempfile.mkdtemp(prefix=prefix)
    try:
        result = up(options)
        yield RunningLab(result.manifest, started_here=True)
    finally:
        down()
        prefect_server.stop()
        os.environ[STATE_ENV] = saved
