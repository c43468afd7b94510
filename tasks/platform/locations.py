"""Every site location exists with its DSCP tags and MTU (guide: Location DSCP tags and MTU)."""

from __future__ import annotations

from typing import Any

from securemode.engine import Change, EngineContext
from securemode.pexip import desired
from securemode.pexip.connect import management_api
from securemode.pexip.models import SystemLocationCreate
from securemode.pexip.nodes import locations_by_name


def ensure_locations(ctx: EngineContext) -> list[Change]:
    changes: list[Change] = []
    with management_api(ctx.site) as api:
        present = locations_by_name(api)
        for location in ctx.site.site.locations:
            wanted = desired.location_fields(location)
            have = present.get(location.name)
            current: dict[str, Any] = have.model_dump() if have else {}
            patch: dict[str, Any] = {}
            for control, fields in wanted.items():
                differing = {k: v for k, v in fields.items() if current.get(k) != v}
                if differing:
                    patch |= differing
                    changes.append(Change(control=control, target=location.name,
                                          setting=", ".join(f"system_location.{k}" for k in differing),
                                          current={k: current.get(k) for k in differing} if have else None,
                                          desired=differing, applied=ctx.apply))
            if not patch or not ctx.apply:
                continue
            if have is None:
                api.create("system_location", SystemLocationCreate(
                    name=location.name, mtu=location.mtu, media_qos=location.media_dscp,
                    signalling_qos=location.signalling_dscp, dns_servers=[], ntp_servers=[], syslog_servers=[],
                ).body())
            else:
                api.patch(have.resource_uri, patch)
    return changes
