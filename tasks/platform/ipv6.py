"""IPv6 address and gateway of each node, when the site gives them (guide: IPv6, optional)."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.pexip.nodes import PlacedNode, placed_nodes

CONTROL = "platform.ipv6"


def _patch_node(api: ManagementApi, placed: PlacedNode, body: dict[str, str]) -> None:
    api.patch(placed.require().resource_uri, body)


def plan_ipv6(api: ManagementApi, nodes: list[PlacedNode]) -> list[Planned]:
    """Per node the site gives IPv6 for, one PATCH of the fields that differ."""
    planned: list[Planned] = []
    for placed in nodes:
        wanted = desired.ipv6_fields(placed.node)
        if wanted is None:
            continue
        current = placed.vm.model_dump() if placed.vm else {}
        differing = {k: v for k, v in wanted.items() if (current.get(k) or "") != v}
        if differing:
            planned.append(Planned(action=partial(_patch_node, api, placed, differing), changes=(
                Change(control=CONTROL, target=placed.node.name, setting=", ".join(differing),
                       current={k: current.get(k) for k in differing}, desired=differing),)))
    return planned


def ensure_ipv6(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_ipv6(api, placed_nodes(api, ctx.site.site)))
