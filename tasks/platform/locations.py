"""Every site location exists with its DSCP tags and MTU (guide: Location DSCP tags and MTU)."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Action, Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.pexip.models import SystemLocation, SystemLocationCreate
from securemode.pexip.nodes import locations_by_name
from securemode.site import Location


def plan_locations(api: ManagementApi, present: dict[str, SystemLocation],
                   locations: list[Location]) -> list[Planned]:
    """Per site location, create it or PATCH the DSCP/MTU fields that differ (one write per location)."""
    planned: list[Planned] = []
    for location in locations:
        have = present.get(location.name)
        current: dict[str, Any] = have.model_dump() if have else {}
        patch: dict[str, Any] = {}
        changes: list[Change] = []
        for control, fields in desired.location_fields(location).items():
            differing = {k: v for k, v in fields.items() if current.get(k) != v}
            if differing:
                patch |= differing
                changes.append(Change(control=control, target=location.name,
                                      setting=", ".join(f"system_location.{k}" for k in differing),
                                      current={k: current.get(k) for k in differing} if have else None,
                                      desired=differing))
        if not patch:
            continue
        action: Action
        if have is None:
            action = partial(api.create, "system_location", SystemLocationCreate(
                name=location.name, mtu=location.mtu, media_qos=location.media_dscp,
                signalling_qos=location.signalling_dscp, dns_servers=[], ntp_servers=[], syslog_servers=[],
            ).body())
        else:
            action = partial(api.patch, have.resource_uri, patch)
        planned.append(Planned(action=action, changes=tuple(changes)))
    return planned


def ensure_locations(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_locations(api, locations_by_name(api), ctx.site.site.locations))
