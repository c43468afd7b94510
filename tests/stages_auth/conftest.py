"""Fixtures: one auth lab (CA, slapd, twin, site; pki and platform done) per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stages_auth.lab import AuthLab, start_auth_lab


@pytest.fixture(autouse=True, scope="module")
def _root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("the Management Node twin listens on port 443 of its own loopback address: needs root")


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state folder per module, so pins and ledgers of one lab never leak into another."""
    path = tmp_path_factory.mktemp("state")
    old = os.environ.get("SECUREMODE_STATE_DIR")
    os.environ["SECUREMODE_STATE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SECUREMODE_STATE_DIR", None)
    else:
        os.environ["SECUREMODE_STATE_DIR"] = old


@pytest.fixture(scope="module")
def auth_lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[AuthLab]:
    started = start_auth_lab(tmp_path_factory.mktemp("auth-lab"))
    yield started
    started.stop()
