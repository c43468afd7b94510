"""The managed Prefect server on SQLite makes concurrent writers wait instead of answering 503.

Prefect's own server answers a burst like this one with 503s (SQLITE_BUSY_SNAPSHOT from its DEFERRED
transactions; measured: 24 to 29 of 60 to 80 calls), and each 503 costs a client two seconds or more
of back-off. The server `securemode server start` runs opens its transactions IMMEDIATE
(securemode.deployments.prefect_server_main), so every call here must succeed at the first attempt.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import httpx
import pytest

WRITERS = 8
RUNS_PER_WRITER = 8

pytestmark = pytest.mark.usefixtures("prefect_api")


def _writer(api: str, flow_id: str, codes: list[int]) -> None:
    with httpx.Client(timeout=60) as client:  # no retry: a 503 is what this test looks for
        for _ in range(RUNS_PER_WRITER):
            made = client.post(f"{api}/flow_runs/", json={"flow_id": flow_id, "name": f"busy-{uuid.uuid4().hex}",
                                                          "state": {"type": "PENDING"}})
            codes.append(made.status_code)
            if made.status_code != 201:
                continue
            run_id = made.json()["id"]
            for state in ("RUNNING", "COMPLETED"):
                codes.append(client.post(f"{api}/flow_runs/{run_id}/set_state",
                                         json={"state": {"type": state}, "force": True}).status_code)
            stamp = datetime.now(UTC).isoformat()
            logs = [{"name": "busy", "level": 20, "message": "m", "timestamp": stamp, "flow_run_id": run_id}] * 20
            codes.append(client.post(f"{api}/logs/", json=logs).status_code)


def test_concurrent_writers_never_meet_a_busy_database(prefect_api: str) -> None:
    flow_id = httpx.post(f"{prefect_api}/flows/", json={"name": "busy-probe"}, timeout=30).json()["id"]
    codes: list[int] = []
    writers = [threading.Thread(target=_writer, args=(prefect_api, flow_id, codes)) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert len(codes) == WRITERS * RUNS_PER_WRITER * 4
    assert sorted(set(codes)) == [201], {code: codes.count(code) for code in set(codes)}
