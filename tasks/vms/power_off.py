"""Powering VMs off the gentle way first (guide: the fallback system's VMs "should be completely powered off
and remain off until required").

For each named VM that is not off: when it runs with its guest tools, ask the guest to shut down and wait
up to a bound; when that cannot be asked (no guest tools, suspended, refused) or the guest is still up
after the bound, power the VM off and record why. Every VM is read again afterwards, and one that is not
off is an error. A VM that is already off is left alone, so a second run changes nothing.

:func:`plan_power_off` only reads; :func:`apply_power_off` reads again (the world may have moved since
the plan), then changes, several VMs at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from securemode.engine import Change, Planned
from securemode.parallel import run_bounded
from securemode.vsphere import VSphereNotFound, VSphereTaskError
from securemode.vsphere.changes import change
from securemode.vsphere.power import (
    POWERED_OFF,
    POWERED_ON,
    SUSPENDED,
    TOOLS_RUNNING,
    PowerReader,
    VmPower,
    power_off,
    request_guest_shutdown,
)
from securemode.vsphere.vmodl import fault_text, vmodl

log = logging.getLogger("securemode.tasks.vms.power_off")

POWERED_OFF_CONTROL = "contingency.powered-off"
POWER_STATE = "runtime.powerState"
DEFAULT_SHUTDOWN_BOUND_S = 120.0
DEFAULT_CONCURRENCY = 4
GUEST_SHUTDOWN = "guest shutdown"
HARD_POWER_OFF = "power off"


@dataclass(frozen=True)
class PowerOffOutcome:
    """What stopping one VM did: its applied Change, how it was stopped, why not by its guest, and the state
    read back afterwards."""

    change: Change
    method: str  # GUEST_SHUTDOWN or HARD_POWER_OFF
    reason: str | None  # why a hard power off was used; None after a clean guest shutdown
    state_after: str


def read_named_vms(reader: PowerReader, vm_names: Sequence[str]) -> list[VmPower]:
    """Every named VM's power state, in the given order; raise naming every VM that does not exist."""
    found = {name: reader.read(name) for name in dict.fromkeys(vm_names)}
    missing = [name for name, vm in found.items() if vm is None]
    if missing:
        what = f"VM {missing[0]} does not" if len(missing) == 1 else f"VMs {', '.join(missing)} do not"
        raise VSphereNotFound(f"{what} exist (asked to power off: {', '.join(vm_names)})")
    return [vm for vm in found.values() if vm is not None]


def _change(vm: VmPower, control: str) -> Change:
    return change(control, vm.name, POWER_STATE, vm.state, POWERED_OFF)


def plan_power_off(reader: PowerReader, vm_names: Sequence[str], control: str = POWERED_OFF_CONTROL) -> list[Change]:
    """One Change per named VM that is not powered off (none for a VM that is); a missing VM raises."""
    return [_change(vm, control) for vm in read_named_vms(reader, vm_names) if vm.state != POWERED_OFF]


def apply_power_off(
    reader: PowerReader,
    vm_names: Sequence[str],
    shutdown_bound_s: float = DEFAULT_SHUTDOWN_BOUND_S,
    control: str = POWERED_OFF_CONTROL,
    limit: int = DEFAULT_CONCURRENCY,
) -> list[PowerOffOutcome]:
    """Stop every named VM that is not off, up to ``limit`` at once; one outcome per VM that was stopped.

    A missing VM raises before anything is changed; a VM still not off at the end raises VSphereTaskError
    (after every other VM was handled)."""
    if shutdown_bound_s < 0:
        raise ValueError(f"the guest shutdown bound {shutdown_bound_s} s must not be negative")
    running = [vm for vm in read_named_vms(reader, vm_names) if vm.state != POWERED_OFF]
    calls = [partial(_stop, reader, vm, shutdown_bound_s, control) for vm in running]
    return run_bounded(calls, limit, "power-off")


def planned_power_off(
    reader: PowerReader,
    vm_names: Sequence[str],
    shutdown_bound_s: float = DEFAULT_SHUTDOWN_BOUND_S,
    control: str = POWERED_OFF_CONTROL,
) -> list[Planned]:
    """The engine's form: one action that stops every VM the plan found running, with their Changes."""
    changes = plan_power_off(reader, vm_names, control)
    if not changes:
        return []
    names = [c.target for c in changes]
    return [Planned(action=partial(apply_power_off, reader, names, shutdown_bound_s, control), changes=tuple(changes))]


def wait_powered_off(reader: PowerReader, vm: VmPower, bound_s: float) -> bool:
    """Poll until the VM reads powered off (True) or ``bound_s`` has passed (False)."""
    deadline = time.monotonic() + bound_s
    delay = 0.05
    while True:
        if reader.reread(vm).state == POWERED_OFF:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 1.0)


def _why_not_guest_shutdown(vm: VmPower) -> str | None:
    """Why a guest shutdown cannot be asked of this VM, or None when it can."""
    if vm.state == SUSPENDED:
        return "the VM is suspended: no running guest to shut down"
    if vm.state != POWERED_ON:
        return f"the VM is {vm.state}: no running guest to shut down"
    if vm.tools != TOOLS_RUNNING:
        return f"guest tools not running ({vm.tools or 'status not reported'}): a guest shutdown cannot be asked"
    return None


def _guest_shutdown(reader: PowerReader, vm: VmPower, bound_s: float) -> str | None:
    """Ask for a guest shutdown and wait; None when the VM went off, else why a power off is needed."""
    refused = request_guest_shutdown(vm)
    if refused is not None:
        return f"guest shutdown refused ({refused})"
    log.info("VM %s: guest shutdown asked; waiting up to %g s", vm.name, bound_s)
    if wait_powered_off(reader, vm, bound_s):
        return None
    return f"the guest did not shut down within {bound_s:g} s"


def _hard_power_off(reader: PowerReader, vm: VmPower) -> None:
    """Power off; a failure is forgiven only when the VM reads off anyway (it went off meanwhile)."""
    try:
        power_off(vm)
    except (VSphereTaskError, vmodl.MethodFault) as exc:
        if reader.reread(vm).state != POWERED_OFF:
            raise VSphereTaskError(f"power-off of VM {vm.name} failed: {fault_text(exc)}") from None
        log.info("VM %s: power off not needed after all (%s): the VM is off", vm.name, fault_text(exc))


def _stop(reader: PowerReader, vm: VmPower, bound_s: float, control: str) -> PowerOffOutcome:
    reason = _why_not_guest_shutdown(vm)
    if reason is None:
        reason = _guest_shutdown(reader, vm, bound_s)
    if reason is not None:
        log.info("VM %s: powering off (%s)", vm.name, reason)
        _hard_power_off(reader, vm)
    method = GUEST_SHUTDOWN if reason is None else HARD_POWER_OFF
    after = reader.reread(vm).state
    if after != POWERED_OFF:
        raise VSphereTaskError(f"VM {vm.name} is {after} after its {method}, not {POWERED_OFF}")
    return PowerOffOutcome(
        change=_change(vm, control).model_copy(update={"applied": True}),
        method=method,
        reason=reason,
        state_after=after,
    )
