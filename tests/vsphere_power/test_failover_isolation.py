"""Isolating the primary at a failover, against vcsim: ``disconnect`` leaves every VM running with no vNIC
connected (nor connecting at power on), ``power-off`` stops them; a missing VM is named and left; a second
plan finds nothing to do; and the fallback's VMs are powered on and read back running."""

from __future__ import annotations

from typing import Any

import pytest

from securemode.tasks.failover.isolation import DISCONNECT, POWER_OFF, apply_isolation, connected_nics, plan_isolation
from securemode.tasks.failover.power_on import apply_power_on, plan_power_on
from securemode.verifiers.vsphere import VSphereConnection
from securemode.vsphere import VSphereNotFound, open_session
from securemode.vsphere.power import POWERED_OFF, POWERED_ON, PowerReader


def fresh(connection: VSphereConnection, names: list[str]) -> dict[str, tuple[str, int]]:
    """Power state and connected vNIC count of each VM, read on a new session."""
    with open_session(connection.endpoint()) as session:
        reader = PowerReader(session)
        return {n: (vm.state, len(connected_nics(vm.ref))) for n in names if (vm := reader.read(n)) is not None}


def test_disconnect_keeps_the_vms_running_with_every_vnic_disconnected(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    assert all(nics > 0 for _, nics in fresh(connection, names).values())  # vcsim's VMs have a connected NIC
    plan = plan_isolation(reader, [*names, "gone-vm"], DISCONNECT)
    assert plan.to_change == names and plan.missing == ["gone-vm"] and plan.already == []
    apply_isolation(reader, plan, shutdown_bound_s=0)
    assert fresh(connection, names) == {n: (POWERED_ON, 0) for n in names}
    again = plan_isolation(reader, names, DISCONNECT)
    assert again.to_change == [] and again.already == names


def test_power_off_isolation_then_power_on_again(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    apply_isolation(reader, plan_isolation(reader, names, POWER_OFF), shutdown_bound_s=0)
    assert {state for state, _ in fresh(connection, names).values()} == {POWERED_OFF}
    assert plan_isolation(reader, names, POWER_OFF).to_change == []
    assert plan_power_on(reader, names) == names
    apply_power_on(reader, names)
    assert {state for state, _ in fresh(connection, names).values()} == {POWERED_ON}
    assert plan_power_on(reader, names) == []
    with pytest.raises(VSphereNotFound, match="gone-vm"):
        plan_power_on(reader, ["gone-vm"])
