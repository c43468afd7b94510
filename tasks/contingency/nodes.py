"""The contingency deployment's nodes, as the site's ``contingency`` section names them."""

from __future__ import annotations

from securemode.site import Contingency, ContingencyNode


def fallback_nodes(plan: Contingency) -> list[ContingencyNode]:
    """The fallback's Management Node, then its conferencing nodes (each VM is named after its node)."""
    return [plan.management_node, *plan.conferencing_nodes]
