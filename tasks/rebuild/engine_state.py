"""Set the compromised deployment's engine state aside, so the redeploy starts as on an empty host.

The engine remembers things about the deployment it built: the Management Node's certificate and console
host-key pins, the auth cut-over (which makes it log in by client certificate), the digests of write-only
secrets, the administrators' client certificates and keys, locally made node keys, the conferencing nodes'
generated OVAs. None of it holds for fresh VMs (and the keys are compromised), so each is moved — never
deleted: it is evidence — under ``rebuild-<id>/`` in the site's state folder. Moving is idempotent: what was
moved already is not there any more.
"""

from __future__ import annotations

import os
from pathlib import Path

from securemode.pexip import state
from securemode.pexip.state import safe_name
from securemode.site_loader import LoadedSite

WHOLE_DEPLOYMENT = (
    "pins.json",
    "console_known_hosts",
    "auth-cutover.json",
    "write-only.json",
    "client-certificates",
    "keys",
    "node-ova",
    "csr",
    "signed",
)


def archive_folder(loaded: LoadedSite, rebuild_id: str) -> Path:
    return state.site_dir(loaded) / f"rebuild-{rebuild_id}"


def stale_entries(loaded: LoadedSite, nodes: list[str]) -> list[str]:
    """The state entries (relative to the site's state folder) that belong to the rebuilt VMs."""
    if loaded.site.management_node.name in nodes:
        names = list(WHOLE_DEPLOYMENT)
    else:  # conferencing nodes only: their keys and OVAs; the ledger, so every write-only secret is written again
        names = [
            "write-only.json",
            *(f"keys/{safe_name(n)}.key" for n in nodes),
            *(f"node-ova/{safe_name(n)}.ova" for n in nodes),
        ]
    root = state.site_dir(loaded)
    return [name for name in names if (root / name).exists()]


def set_aside(loaded: LoadedSite, rebuild_id: str, nodes: list[str]) -> list[str]:
    """Move every stale entry under the rebuild's archive folder (0700); returns what was moved."""
    root, target = state.site_dir(loaded), archive_folder(loaded, rebuild_id)
    moved = []
    for name in stale_entries(loaded, nodes):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(root / name, destination)
        moved.append(name)
    return moved
