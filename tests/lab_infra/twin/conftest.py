"""Fixtures for the Management Node twin: a fresh node per module or per test, pinned clients, a CA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from securemode.infra.twin import TwinConfig, TwinManagementNode
from tests.lab_infra.twin.certs import ScratchCA
from tests.lab_infra.twin.helpers import Api

ADMIN = ("admin", "Adm1n-Secret!")
FAST = TwinConfig(self_signed_key_bits=2048, password_hash_iterations=1000)

NodeFactory = Callable[..., TwinManagementNode]


@pytest.fixture(scope="session")
def ca() -> ScratchCA:
    return ScratchCA()


def _factory(base: Path) -> tuple[NodeFactory, list[TwinManagementNode]]:
    started: list[TwinManagementNode] = []

    def make(name: str = "mgr", config: TwinConfig = FAST, **kw: Any) -> TwinManagementNode:
        kw.setdefault("admin_password", ADMIN[1])
        node = TwinManagementNode(base / f"{name}-{len(started)}", "127.0.0.1", 0, config=config, **kw).start()
        started.append(node)
        return node

    return make, started


@pytest.fixture
def make_twin(tmp_path: Path) -> Iterator[NodeFactory]:
    make, started = _factory(tmp_path)
    yield make
    for node in started:
        node.stop()


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinManagementNode]:
    make, started = _factory(tmp_path_factory.mktemp("twin"))
    yield make()
    for node in started:
        node.stop()


def pinned(node: TwinManagementNode, tmp: Path) -> Path:
    return node.write_certificate(tmp / f"served-{node.port}.pem")


@pytest.fixture(scope="module")
def api(twin: TwinManagementNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    client = Api(twin.base_url, pinned(twin, tmp_path_factory.mktemp("pin")), auth=ADMIN)
    yield client
    client.close()
