"""Reusable pytest fixtures: a fresh vcsim per test module, and a factory for custom ones.

Use from any conftest.py::

    from securemode.infra.vcsim.pytest_fixtures import (  # noqa: F401
        vcsim, vcsim_factory, vcsim_host, vcsim_si, vcsim_vm,
    )

The build runs once per session (it is a no-op when nothing changed). Every simulator started
here is stopped by PID when its scope ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from securemode.infra.vcsim.launcher import Vcsim, VcsimOptions, ensure_built, start_vcsim


@pytest.fixture(scope="session")
def vcsim_binary() -> Any:
    """Build (or confirm) vcsim-ext once per session."""
    return ensure_built()


@pytest.fixture(scope="module")
def vcsim(vcsim_binary: Any) -> Iterator[Vcsim]:
    """A fresh strict ESXi-mode simulator for the test module (see VcsimOptions defaults)."""
    sim = start_vcsim(VcsimOptions(), binary=vcsim_binary)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def vcsim_factory(vcsim_binary: Any) -> Iterator[Callable[..., Vcsim]]:
    """Start simulators with custom options, e.g. ``vcsim_factory(mode="vcenter", pnics=4)``."""
    started: list[Vcsim] = []

    def make(**options: Any) -> Vcsim:
        sim = start_vcsim(VcsimOptions(**options), binary=vcsim_binary)
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()


def connect(sim: Vcsim, user: str | None = None, pwd: str | None = None) -> Any:
    """pyVmomi ServiceInstance for tests (certificate checks off: lab only, tests only)."""
    from pyVim.connect import SmartConnect

    return SmartConnect(  # type: ignore[no-untyped-call]  # pyVmomi ships no hints here
        host=sim.host,
        port=sim.port,
        user=user or sim.username,
        pwd=sim.password if pwd is None else pwd,
        disableSslCertValidation=True,
    )


@pytest.fixture(scope="module")
def vcsim_si(vcsim: Vcsim) -> Iterator[Any]:
    """A logged-in pyVmomi ServiceInstance on the module's simulator."""
    from pyVim.connect import Disconnect

    si = connect(vcsim)
    try:
        yield si
    finally:
        Disconnect(si)  # type: ignore[no-untyped-call]


def first_object(si: Any, kind: Any) -> Any:
    """The managed object of a pyVmomi type with the lowest moid (stable across runs)."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return sorted(view.view, key=lambda o: o._moId)[0]
    finally:
        view.Destroy()


def run_task(task: Any) -> Any:
    """Wait for a vSphere task; return its result or raise its fault."""
    from pyVim.task import WaitForTask

    WaitForTask(task)  # type: ignore[no-untyped-call]
    return task.info.result


@pytest.fixture(scope="module")
def vcsim_host(vcsim_si: Any) -> Any:
    """The (first) ESXi host of the module's simulator."""
    from pyVmomi import vim

    return first_object(vcsim_si, vim.HostSystem)


@pytest.fixture(scope="module")
def vcsim_vm(vcsim_si: Any) -> Any:
    """The first VM of the module's simulator (powered on: the model autostarts)."""
    from pyVmomi import vim

    return first_object(vcsim_si, vim.VirtualMachine)
