"""Forget a site's recorded trust pins: the explicit act after a node was rebuilt on purpose.

The engine pins the Management Node's self-signed HTTPS certificate and its console's SSH host key
(each an approved step). A rebuilt node presents new ones and the engine refuses it; this drops the
old pins so the next ``run`` asks for approval to pin the new ones.
"""

from __future__ import annotations

from securemode.console.access import console_endpoint, console_pins
from securemode.pexip.trust import forget_pin
from securemode.site_loader import LoadedSite


def forget_site_pins(loaded: LoadedSite) -> list[str]:
    """Drop the web-certificate pin and the console host-key pin of the site's Management Node; say which."""
    dropped = []
    address = str(loaded.site.management_node.address)
    if forget_pin(loaded, address):
        dropped.append(f"HTTPS certificate pin of {address}")
    endpoint = console_endpoint(loaded)
    if console_pins(loaded).forget(endpoint.host, endpoint.port):
        dropped.append(f"console host-key pin of {endpoint.host}:{endpoint.port}")
    return dropped
