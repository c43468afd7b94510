"""ESXi advanced options of the STIG subset, written with the type the host declares for each."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import EngineContext, StepPlan, plan_of
from securemode.vsphere import host_target, open_site_session
from securemode.vsphere.changes import Planned, change
from securemode.vsphere.desired_host import DesiredOption, desired_options
from securemode.vsphere.options import OptionState, matches, read_options, write_option


def plan_options(host: Any, target: str, wanted: list[DesiredOption],
                 current: dict[str, OptionState]) -> tuple[list[Planned], list[str]]:
    """Planned writes for options that differ (in apply order), and notes on options that cannot be set."""
    planned: list[Planned] = []
    notes: list[str] = []
    for want in wanted:
        if want.unset is not None:
            continue  # nothing to set: the verifier reports N/A or FAIL with the reason
        state = current.get(want.key)
        if state is None:
            notes.append(f"{want.control}: option {want.key} does not exist on {target}; it cannot be set")
            continue
        if matches(state, want.value):
            continue
        planned.append(Planned(action=partial(write_option, host, state, want.value),
                               changes=(change(want.control, target, want.key, state.value, want.value),)))
    return planned, notes


def ensure_advanced_options(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    """Set every STIG advanced option that differs, one call per option, prerequisites first."""
    site = ctx.site.site
    wanted = desired_options(site)
    host = resources.enter_context(open_site_session(ctx.site)).host()
    planned, notes = plan_options(host, host_target(site), wanted, read_options(host, [w.key for w in wanted]))
    return plan_of(*planned, notes=notes)
