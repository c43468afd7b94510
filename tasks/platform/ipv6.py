"""IPv6 address and gateway of each node, when the site gives them (guide: IPv6, optional)."""

from __future__ import annotations

from securemode.engine import Change, EngineContext
from securemode.pexip import desired
from securemode.pexip.connect import management_api
from securemode.pexip.nodes import placed_nodes

CONTROL = "platform.ipv6"


def ensure_ipv6(ctx: EngineContext) -> list[Change]:
    changes: list[Change] = []
    with management_api(ctx.site) as api:
        for placed in placed_nodes(api, ctx.site.site):
            wanted = desired.ipv6_fields(placed.node)
            if wanted is None:
                continue
            current = placed.vm.model_dump() if placed.vm else {}
            differing = {k: v for k, v in wanted.items() if (current.get(k) or "") != v}
            if not differing:
                continue
            if ctx.apply:
                api.patch(placed.require().resource_uri, differing)
            changes.append(Change(control=CONTROL, target=placed.node.name, setting=", ".join(differing),
                                  current={k: current.get(k) for k in differing}, desired=differing,
                                  applied=ctx.apply))
    return changes
