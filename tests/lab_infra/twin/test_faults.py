"""Fault injection: switched on per test, for a share of requests or for specific paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from securemode.infra.twin import (
    FaultInjector,
    TwinManagementNode,
    latency,
    reset_connection,
    too_many_requests,
    unavailable,
)
from tests.lab_infra.twin.conftest import ADMIN
from tests.lab_infra.twin.helpers import Api


@pytest.fixture
def node(twin: TwinManagementNode) -> Iterator[TwinManagementNode]:
    twin.faults.clear()
    yield twin
    twin.faults.clear()


@pytest.fixture
def client(node: TwinManagementNode, tmp_path: Path) -> Api:
    return Api(node.base_url, node.write_certificate(tmp_path / "pin.pem"), ADMIN)


def test_no_faults_by_default(client: Api) -> None:
    assert all(client.get("global/1/").status_code == 200 for _ in range(5))


def test_429_with_retry_after_on_matching_paths_only(node: TwinManagementNode, client: Api) -> None:
    node.faults.add(too_many_requests(retry_after=7, path_regex=r"/dns_server/"))
    resp = client.get("dns_server/")
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "7"
    assert client.get("global/1/").status_code == 200


def test_503_for_a_share_of_requests(node: TwinManagementNode, client: Api) -> None:
    rule = node.faults.add(unavailable(share=0.5))
    codes = [client.get("global/1/").status_code for _ in range(40)]
    assert set(codes) == {200, 503}
    assert 8 <= codes.count(503) <= 32
    hit = node.faults.rule(rule)
    assert hit is not None and hit.hits == codes.count(503)


def test_limited_count_then_recovers(node: TwinManagementNode, client: Api) -> None:
    node.faults.add(unavailable(remaining=2, methods=("PATCH",)))
    codes = [client.patch("global/1/", {"enable_chat": False}).status_code for _ in range(3)]
    assert codes == [503, 503, 202]


def test_reset_connection(node: TwinManagementNode, client: Api) -> None:
    node.faults.add(reset_connection(remaining=1))
    with pytest.raises(requests.ConnectionError):
        client.get("global/1/")
    assert client.get("global/1/").status_code == 200


def test_added_latency(node: TwinManagementNode, client: Api) -> None:
    node.faults.add(latency(0.3, path_regex="permission"))
    start = time.monotonic()
    assert client.get("permission/").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_faults_file_for_a_twin_running_as_a_process(node: TwinManagementNode, client: Api) -> None:
    path = node.state.state_dir / "faults.json"
    path.write_text(FaultInjector.dump([too_many_requests(retry_after=3, path_regex="role")]))
    try:
        assert client.get("role/").status_code == 429
    finally:
        path.unlink()
    assert client.get("role/").status_code == 200
