"""SIP TLS FQDN (``alternative_fqdn``) on every Conferencing Node the site gives one for."""

from __future__ import annotations

from securemode.engine import Change, EngineContext
from securemode.pexip.connect import management_api
from securemode.pexip.nodes import placed_nodes
from securemode.site import ConferencingNode

CONTROL = "pki.sip-tls-fqdn"


def ensure_sip_tls_fqdn(ctx: EngineContext) -> list[Change]:
    changes: list[Change] = []
    with management_api(ctx.site) as api:
        for placed in placed_nodes(api, ctx.site.site):
            node = placed.node
            if not isinstance(node, ConferencingNode) or not node.sip_tls_fqdn:
                continue
            current = placed.vm.alternative_fqdn if placed.vm else None
            if current == node.sip_tls_fqdn:
                continue
            if ctx.apply:
                api.patch(placed.require().resource_uri, {"alternative_fqdn": node.sip_tls_fqdn})
            changes.append(Change(control=CONTROL, target=node.name, setting="alternative_fqdn", current=current,
                                  desired=node.sip_tls_fqdn, applied=ctx.apply))
    return changes
