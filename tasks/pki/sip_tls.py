"""SIP TLS FQDN (``alternative_fqdn``) on every Conferencing Node the site gives one for."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api
from securemode.pexip.nodes import PlacedNode, placed_nodes
from securemode.site import ConferencingNode

CONTROL = "pki.sip-tls-fqdn"


def _set_fqdn(api: ManagementApi, placed: PlacedNode, fqdn: str) -> None:
    api.patch(placed.require().resource_uri, {"alternative_fqdn": fqdn})


def plan_sip_tls_fqdn(api: ManagementApi, nodes: list[PlacedNode]) -> list[Planned]:
    """Per Conferencing Node with a SIP TLS FQDN in the site, set ``alternative_fqdn`` when it differs."""
    planned: list[Planned] = []
    for placed in nodes:
        node = placed.node
        if not isinstance(node, ConferencingNode) or not node.sip_tls_fqdn:
            continue
        current = placed.vm.alternative_fqdn if placed.vm else None
        if current != node.sip_tls_fqdn:
            planned.append(Planned(action=partial(_set_fqdn, api, placed, node.sip_tls_fqdn), changes=(
                Change(control=CONTROL, target=node.name, setting="alternative_fqdn", current=current,
                       desired=node.sip_tls_fqdn),)))
    return planned


def ensure_sip_tls_fqdn(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_sip_tls_fqdn(api, placed_nodes(api, ctx.site.site)))
