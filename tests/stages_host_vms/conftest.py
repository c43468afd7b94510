"""Fixtures: one vcsim-ext per test module (no VMs of its own, 2 pNICs, strict typed options), the lab site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securemode.infra.vcsim import Vcsim, VcsimOptions, start_vcsim
from securemode.infra.vcsim.pytest_fixtures import vcsim_binary  # noqa: F401
from securemode.site_loader import LoadedSite
from tests.stages_host_vms.lab import lab_document, lab_environment, write_site


@pytest.fixture(scope="module")
def sim(vcsim_binary: Path) -> Iterator[Vcsim]:  # noqa: F811
    """A fresh strict ESXi simulator with no VMs, so the IOPS budget only sees what the tests create."""
    simulator = start_vcsim(VcsimOptions(vms=0), binary=vcsim_binary)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def lab(sim: Vcsim, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[LoadedSite]:
    """The lab site (secrets in the environment, a private state folder), loaded and validated."""
    folder = tmp_path_factory.mktemp("lab")
    with lab_environment(sim, folder / "state"):
        yield write_site(folder, lab_document(sim, name=f"lab-{request.module.__name__.rsplit('.', 1)[-1]}"))
