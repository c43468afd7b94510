"""A small real stage for testing the pipeline's own mechanics: its target is a JSON file on disk.

It behaves like a real stage — reads facts, plans the diff, the engine writes only on apply (a gated
step only once approved), verifies from a fresh read —
so gating, resuming, retries, reports and artifacts are exercised without the lab.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from prefect.logging import get_run_logger

from securemode.catalogue import Stage
from securemode.engine import Change, EngineContext, EnsureStep, Planned, StageSpec, StepPlan, plan_of
from securemode.results import Result, Status, probe
from securemode.site_loader import LoadedSite

WANTED = {"Security.AccountLockFailures": 3, "UserVars.DcuiTimeOut": 600}
FLAKY_BUDGET: dict[str, int] = {"left": 0}


class FlakyConnection(ConnectionError):
    """Stands in for a dropped connection (a fault we cannot cause on a file)."""


def device(loaded: LoadedSite) -> Path:
    return loaded.base_dir / "device.json"


def read_state(loaded: LoadedSite) -> dict[str, Any]:
    path = device(loaded)
    return json.loads(path.read_text()) if path.exists() else {}


def write_state(loaded: LoadedSite, state: dict[str, Any]) -> None:
    device(loaded).write_text(json.dumps(state))


def ensure_options(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    if FLAKY_BUDGET["left"] > 0:
        FLAKY_BUDGET["left"] -= 1
        raise FlakyConnection("connection reset by peer")
    secret = ctx.site.secret(ctx.site.site.vsphere.password).get_secret_value()
    get_run_logger().info(f"connecting with password {secret}")  # a careless line: must be redacted
    state = read_state(ctx.site)
    changes = [Change(control=f"host.stig.{'ESXI-80-000005' if key.startswith('Security') else 'ESXI-80-000196'}",
                      target="device", setting=key, current=state.get(key), desired=value)
               for key, value in WANTED.items() if state.get(key) != value]
    if not changes:
        return plan_of()
    return plan_of(Planned(action=partial(write_state, ctx.site, {**state, **{c.setting: c.desired for c in changes}}),
                           changes=tuple(changes)))


def ensure_lockdown(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    state = read_state(ctx.site)
    if state.get("lockdown") == "lockdownNormal":
        return plan_of()
    change = Change(control="host.stig.ESXI-80-000008", target="device", setting="lockdown",
                    current=state.get("lockdown"), desired="lockdownNormal")
    return plan_of(Planned(action=partial(write_state, ctx.site, {**state, "lockdown": "lockdownNormal"}),
                           changes=(change,)), summary="enter lockdown mode")


def verify(loaded: LoadedSite) -> list[Result]:
    results = []
    state = read_state(loaded)
    for control, key in (("host.stig.ESXI-80-000005", "Security.AccountLockFailures"),
                         ("host.stig.ESXI-80-000196", "UserVars.DcuiTimeOut")):
        with probe(control, "device", expected=WANTED[key]) as p:
            if state.get("unreadable"):
                raise OSError("device does not answer")
            p.check(state.get(key) == WANTED[key], observed=state.get(key), message=f"{key} differs")
        results.append(p.result)
    with probe("host.stig.ESXI-80-000008", "device", expected="lockdownNormal") as p:
        p.check(state.get("lockdown") == "lockdownNormal", observed=state.get("lockdown"), message="not locked down")
    results.append(p.result)
    with probe("vms.bios.supervisor-password", "device") as p:
        p.manual("the BIOS supervisor password can only be attested by a person")
    results.append(p.result)
    return results


SPEC = StageSpec(stage=Stage.HOST, steps=(
    EnsureStep(name="options", plan=ensure_options, transient_errors=(FlakyConnection,)),
    EnsureStep(name="lockdown", plan=ensure_lockdown, gated="host.lockdown"),
), verify=verify)


def never_ok(loaded: LoadedSite) -> list[Result]:
    with probe("vms.cpu.reservation", "mgr01") as p:
        p.passed(observed=1)
    return [p.result]


SECOND = StageSpec(stage=Stage.VMS, steps=(), verify=never_ok)
STATUSES = Status
