"""Powering VMs off against vcsim: plan reads only, apply stops every running VM (guest shutdown when the
guest tools run, else power off with the reason), a fresh session reads them off, and a second run changes
nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from securemode.infra.vcsim.pytest_fixtures import run_task
from securemode.tasks.vms.power_off import (
    GUEST_SHUTDOWN,
    HARD_POWER_OFF,
    POWERED_OFF_CONTROL,
    apply_power_off,
    plan_power_off,
    planned_power_off,
    wait_powered_off,
)
from securemode.verifiers.vsphere import VSphereConnection
from securemode.vsphere import VSphereNotFound, open_session
from securemode.vsphere.power import POWERED_OFF, POWERED_ON, SUSPENDED, TOOLS_RUNNING, PowerReader
from tests.vsphere_power.conftest import set_tools


def fresh_states(connection: VSphereConnection, names: list[str]) -> dict[str, str]:
    """Power states read on a new session, not the one that changed them."""
    with open_session(connection.endpoint()) as session:
        reader = PowerReader(session)
        return {name: vm.state for name in names if (vm := reader.read(name)) is not None}


def test_plan_has_a_change_per_running_vm_and_writes_nothing(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    changes = plan_power_off(reader, names)
    assert [(c.control, c.target, c.setting, c.current, c.desired, c.applied) for c in changes] == [
        (POWERED_OFF_CONTROL, name, "runtime.powerState", POWERED_ON, POWERED_OFF, False) for name in names
    ]
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_ON)


def test_apply_powers_off_without_guest_tools_and_a_second_run_changes_nothing(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    outcomes = apply_power_off(reader, names, shutdown_bound_s=5)
    assert [o.change.target for o in outcomes] == names
    for outcome in outcomes:
        assert outcome.change.applied and outcome.change.current == POWERED_ON
        assert outcome.method == HARD_POWER_OFF and outcome.state_after == POWERED_OFF
        assert outcome.reason is not None and "guest tools not running (guestToolsNotRunning)" in outcome.reason
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_OFF)
    assert plan_power_off(reader, names) == []
    assert apply_power_off(reader, names, shutdown_bound_s=5) == []
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_OFF)


def test_a_guest_with_running_tools_is_shut_down_by_its_guest(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    name = sorted(vms)[0]
    set_tools(vms[name], TOOLS_RUNNING)
    [outcome] = apply_power_off(reader, [name], shutdown_bound_s=5)
    assert (outcome.method, outcome.reason, outcome.state_after) == (GUEST_SHUTDOWN, None, POWERED_OFF)
    assert fresh_states(connection, sorted(vms)) == {n: POWERED_OFF if n == name else POWERED_ON for n in vms}


def test_a_suspended_vm_is_powered_off_and_says_why(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    name = sorted(vms)[1]
    set_tools(vms[name], TOOLS_RUNNING)
    run_task(vms[name].SuspendVM_Task())
    [change] = plan_power_off(reader, [name])
    assert change.current == SUSPENDED
    [outcome] = apply_power_off(reader, [name])
    assert outcome.method == HARD_POWER_OFF and outcome.reason is not None and "suspended" in outcome.reason
    assert fresh_states(connection, [name]) == {name: POWERED_OFF}


def test_only_the_running_vms_of_a_mixed_set_change(reader: PowerReader, vms: dict[str, Any]) -> None:
    names = sorted(vms)
    run_task(vms[names[0]].PowerOffVM_Task())
    assert [c.target for c in plan_power_off(reader, names)] == names[1:]
    assert [o.change.target for o in apply_power_off(reader, names, limit=2)] == names[1:]


def test_a_missing_vm_is_named_and_nothing_is_changed(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    with pytest.raises(VSphereNotFound, match="VM conf09-c does not exist"):
        plan_power_off(reader, [names[0], "conf09-c"])
    with pytest.raises(VSphereNotFound, match="VM conf09-c does not exist"):
        apply_power_off(reader, [names[0], "conf09-c"])
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_ON)


def test_the_wait_for_a_guest_gives_up_at_its_bound(reader: PowerReader, vms: dict[str, Any]) -> None:
    vm = reader.read(sorted(vms)[0])
    assert vm is not None
    t0 = time.monotonic()
    assert wait_powered_off(reader, vm, 0.3) is False
    assert 0.3 <= time.monotonic() - t0 < 2.0
    run_task(vm.ref.PowerOffVM_Task())
    assert wait_powered_off(reader, vm, 0.0) is True


def test_the_engine_form_plans_then_applies_in_one_action(
    reader: PowerReader, vms: dict[str, Any], connection: VSphereConnection
) -> None:
    names = sorted(vms)
    [planned] = planned_power_off(reader, names, shutdown_bound_s=1)
    assert [c.target for c in planned.changes] == names
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_ON)
    planned.action()
    assert fresh_states(connection, names) == dict.fromkeys(names, POWERED_OFF)
    assert planned_power_off(reader, names) == []
