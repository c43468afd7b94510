"""Global settings (guide: Global settings table): one PATCH of ``global/1/`` with what differs.

The port ranges are only verified (the guide says "verify"), so they are not written here.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import management_api

GLOBAL_URI = config_uri("global", 1)


def read_global(api: ManagementApi) -> dict[str, Any]:
    return api.get(GLOBAL_URI)


def global_diff(current: dict[str, Any], wanted: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Control id → the fields of that control whose value differs."""
    out: dict[str, dict[str, Any]] = {}
    for control, fields in wanted.items():
        differing = {k: v for k, v in fields.items() if current.get(k) != v}
        if differing:
            out[control] = differing
    return out


def plan_global(api: ManagementApi, current: dict[str, Any], wanted: dict[str, dict[str, Any]]) -> list[Planned]:
    """One PATCH of everything that differs, reported per control (pure: ``api`` only binds the write)."""
    diff = global_diff(current, wanted)
    if not diff:
        return []
    patch = {k: v for fields in diff.values() for k, v in fields.items()}
    return [Planned(action=partial(api.patch, GLOBAL_URI, patch), changes=tuple(
        Change(control=control, target=desired.PLATFORM_TARGET, setting=", ".join(f"global.{k}" for k in fields),
               current={k: current.get(k) for k in fields}, desired=fields)
        for control, fields in diff.items()))]


def ensure_global_settings(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_global(api, read_global(api), desired.global_settings(ctx.site.site)))
