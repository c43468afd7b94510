"""One managed Prefect server for the pipeline tests, stopped by PID at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from securemode import log_redaction, prefect_server


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    info, started = prefect_server.ensure_running()
    log_redaction.install()
    with temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield info.api_url
    if started:
        prefect_server.stop()
