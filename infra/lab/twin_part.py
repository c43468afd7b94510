"""The Management Node twin as a lab process (:mod:`securemode.infra.lab.twin_process`), and the bootstrapped
profile's registration of the site's conferencing nodes through its Management API (as an
administrator would have done).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securemode.infra.lab.node_processes import twin_spec
from securemode.infra.lab.plan import LabPlan, NodePlan, SiteNetwork
from securemode.infra.lab.processes import Child

if TYPE_CHECKING:
    from securemode.pexip.trust import Trust

API = "/api/admin/configuration/v1"
LOCATION = "Lab"


def spawn(plan: LabPlan, workdir: Path, state_dir: Path, admin_password_file: Path, ldap_ca_file: Path,
          netns_ready_file: Path | None) -> Child:
    """The twin on the manager's loopback address, installed with the site's answers; with the
    namespace its installed address is the manager's namespace address (:mod:`securemode.infra.lab.twin_process`)."""
    return twin_spec(plan, workdir, state_dir, admin_password_file, ldap_ca_file, netns_ready_file).spawn()


def pinned(fingerprint: str) -> Trust:
    """Trust exactly the twin's first-boot certificate (its fingerprint is in the manifest)."""
    from securemode.pexip.trust import PinnedFingerprint, normalise_fingerprint

    return PinnedFingerprint(normalise_fingerprint(fingerprint))


def _session(trust: Trust, username: str, password: str) -> Any:
    from securemode.pexip.transport import trusted_session

    session = trusted_session(trust)
    session.auth = (username, password)
    return session


def worker_body(node: NodePlan, plan: LabPlan, network: SiteNetwork, location_uri: str,
                node_password: str) -> dict[str, Any]:
    return {
        "name": node.name,
        "hostname": node.hostname,
        "domain": plan.domain,
        "address": network.address(node),
        "netmask": network.netmask,
        "gateway": network.gateway,
        "system_location": location_uri,
        "password": node_password,
        "node_type": "CONFERENCING",
        "deployment_type": "MANUAL-PROVISION-ONLY",
    }


def register_conferencing_nodes(
    base_url: str, fingerprint: str, admin: tuple[str, str], plan: LabPlan, network: SiteNetwork,
    node_passwords: Sequence[str],
) -> list[str]:
    """Create the lab location and one worker_vm per conferencing node (at its site address); returns their URIs."""
    with _session(pinned(fingerprint), *admin) as session:
        resp = session.post(f"{base_url}{API}/system_location/", json={"name": LOCATION}, timeout=10)
        resp.raise_for_status()
        location_uri = _uri(resp.headers["Location"])
        uris = []
        for node, password in zip(plan.conferencing, node_passwords, strict=True):
            resp = session.post(f"{base_url}{API}/worker_vm/",
                                json=worker_body(node, plan, network, location_uri, password), timeout=10)
            resp.raise_for_status()
            uris.append(_uri(resp.headers["Location"]))
        return uris


def _uri(location: str) -> str:
    """The resource URI (path) of a Location header, absolute or relative."""
    if "://" in location:
        return "/" + location.split("://", 1)[1].split("/", 1)[1]
    return location


def refuses_without_certificate(base_url: str, trust: Trust, path: str, timeout: float = 5.0) -> int:
    """The status of a credential-less GET of ``path``: 403 when the API requires a client certificate."""
    from securemode.pexip.transport import trusted_session

    with trusted_session(trust) as session:
        return int(session.get(f"{base_url}{path}", timeout=timeout).status_code)


def api_get(base_url: str, trust: Trust, admin: tuple[str, str], path: str, timeout: float = 5.0) -> Any:
    """GET a Management API path under ``trust`` (the pin, or the site's CA); returns the decoded JSON."""
    with _session(trust, *admin) as session:
        resp = session.get(f"{base_url}{path}", timeout=timeout)
        resp.raise_for_status()
        return resp.json()
