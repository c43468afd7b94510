"""The pipeline tests share the session's managed Prefect server (tests/conftest.py: prefect_api)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.catalogue import Stage
from securemode.flows import stages
from tests.pipeline import device_stage
from tests.unit.sites import SECRET_ENV, example_document, write_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    doc = example_document()
    doc["name"] = f"t{abs(hash(tmp_path)) % 10**8}"
    doc["replication_wait_s"] = 0  # the device applies changes at once; nothing to wait for
    path = write_site(tmp_path, doc)
    with stages.substituted({Stage.HOST: device_stage.SPEC, Stage.VMS: device_stage.SECOND}):
        yield path
