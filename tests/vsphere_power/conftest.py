"""Fixtures: one vcsim-ext per test module with three VMs, each test starting with all of them running and
their guest tools reported not running (vcsim's default), and sessions as the engine and a verifier open them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from securemode.infra.vcsim import Vcsim, VcsimOptions, start_vcsim
from securemode.infra.vcsim.pytest_fixtures import run_task, vcsim_binary  # noqa: F401
from securemode.verifiers.vsphere import VSphereConnection
from securemode.vsphere import open_session
from securemode.vsphere.inventory import objects_of
from securemode.vsphere.power import POWERED_ON, PowerReader
from securemode.vsphere.vmodl import vim

VM_COUNT = 3


@pytest.fixture(scope="module")
def sim(vcsim_binary: Path) -> Iterator[Vcsim]:  # noqa: F811
    simulator = start_vcsim(VcsimOptions(vms=VM_COUNT), binary=vcsim_binary)
    try:
        yield simulator
    finally:
        simulator.stop()


def connection_to(sim: Vcsim) -> VSphereConnection:
    """The connection a verifier gets from the site: the simulator's certificate pinned."""
    return VSphereConnection(
        host=sim.host,
        port=sim.port,
        username=sim.username,
        password=sim.password,
        fingerprint_sha256=sim.tls_fingerprint,
    )


@pytest.fixture
def connection(sim: Vcsim) -> VSphereConnection:
    return connection_to(sim)


@pytest.fixture
def reader(connection: VSphereConnection) -> Iterator[PowerReader]:
    """The engine's reader, on a session of its own."""
    with open_session(connection.endpoint()) as session:
        yield PowerReader(session)


def set_tools(vm: Any, status: str) -> None:
    """What vcsim reports as the guest tools' running status (``SET.guest.*`` extraConfig is vcsim's own knob)."""
    option = vim.option.OptionValue(key="SET.guest.toolsRunningStatus", value=status)
    run_task(vm.ReconfigVM_Task(vim.vm.ConfigSpec(extraConfig=[option])))


@pytest.fixture
def vms(reader: PowerReader) -> dict[str, Any]:
    """Every VM of the simulator by name, each powered on with its guest tools not running."""
    found = {vm.name: vm for vm in objects_of(reader.session.content, vim.VirtualMachine)}
    assert len(found) == VM_COUNT
    for vm in found.values():
        if vm.runtime.powerState != POWERED_ON:
            run_task(vm.PowerOnVM_Task())
        set_tools(vm, "guestToolsNotRunning")
    return found


@pytest.fixture
def address() -> str:
    """A loopback address no lab service listens on (the lab uses 127.77.0.0/16)."""
    return f"127.88.{random.randint(1, 254)}.{random.randint(1, 254)}"
