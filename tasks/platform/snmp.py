"""SNMPv3 read-only (``snmp_mode`` AUTHPRIV) with the site's credentials and a non-``public`` community,
on the Management Node and every Conferencing Node (guide: SNMP).

The two SNMP passwords are write-only; they are written when the ledger holds no digest of the site's
value for that node (see :mod:`securemode.pexip.ledger`), and always together with a mode change.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api, write_only_ledger
from securemode.pexip.ledger import WriteOnlyLedger
from securemode.pexip.nodes import PlacedNode, placed_nodes
from securemode.site import WELL_KNOWN_COMMUNITIES

PASSWORD_FIELDS = ("snmp_authentication_password", "snmp_privacy_password")
V3_CONTROL = "platform.snmp.v3"


def shown(field: str, value: Any, site_community: str) -> Any:
    """A field's value as a plan or report may show it: a community only when it is a well-known one
    ("public"); the site's community and any other are named, never printed."""
    if field != "snmp_community" or value in WELL_KNOWN_COMMUNITIES or not value:
        return value
    return "the site's community" if value == site_community else "another community"


def _ledger_key(api: ManagementApi, uri: str, field: str) -> str:
    return f"{api.base_url}{uri}#{field}"


def _write_node(api: ManagementApi, ledger: WriteOnlyLedger, placed: PlacedNode, patch: dict[str, Any],
                secrets: dict[str, str]) -> None:
    """One PATCH of the node's SNMP fields, then the passwords' digests in the ledger."""
    uri = placed.require().resource_uri
    api.patch(uri, patch)
    for field in PASSWORD_FIELDS:
        ledger.record(_ledger_key(api, uri, field), secrets[field], vouched_by=(V3_CONTROL, placed.node.name))


def plan_node_snmp(placed: PlacedNode, wanted: dict[str, dict[str, Any]], passwords_known: bool, community: str,
                   secrets: dict[str, str], write: Callable[[dict[str, Any]], object]) -> Planned | None:
    """The node's SNMP fields that differ, plus the write-only passwords when the ledger does not know
    them to match or the mode changes; one write for all of it (``write`` gets the body)."""
    current = placed.vm.model_dump() if placed.vm is not None else {}
    patch: dict[str, Any] = {}
    changes: list[Change] = []
    for control, fields in wanted.items():
        differing = {k: v for k, v in fields.items() if current.get(k) != v}
        if differing:
            patch |= differing
            changes.append(Change(control=control, target=placed.node.name, setting=", ".join(differing),
                                  current={k: shown(k, current.get(k), community) for k in differing},
                                  desired={k: shown(k, v, community) for k, v in differing.items()}))
    stale = placed.vm is None or not passwords_known
    if stale or "snmp_mode" in patch:
        patch |= secrets
        changes.append(Change(control=V3_CONTROL, target=placed.node.name, setting=", ".join(PASSWORD_FIELDS),
                              current="not known to match the site" if stale else "as recorded",
                              desired="site credentials (write-only)"))
    if not patch:
        return None
    return Planned(action=partial(write, patch), changes=tuple(changes))


def ensure_snmp(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    snmp = ctx.site.site.snmp
    secrets = {
        "snmp_authentication_password": ctx.site.secret(snmp.auth_password).get_secret_value(),
        "snmp_privacy_password": ctx.site.secret(snmp.priv_password).get_secret_value(),
    }
    community = ctx.site.secret(snmp.community).get_secret_value()
    wanted = desired.snmp_fields(ctx.site.site, community)
    ledger = write_only_ledger(ctx.site)
    api = resources.enter_context(management_api(ctx.site))
    planned: list[Planned] = []
    for placed in placed_nodes(api, ctx.site.site):
        vm = placed.vm
        known = vm is not None and all(ledger.matches(_ledger_key(api, vm.resource_uri, f), secrets[f])
                                       for f in PASSWORD_FIELDS)
        item = plan_node_snmp(placed, wanted, known, community, secrets,
                              partial(_write_node, api, ledger, placed, secrets=secrets))
        if item is not None:
            planned.append(item)
    return plan_of(*planned)
