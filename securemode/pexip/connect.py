"""Open a Management API session for a site's Management Node, with the right trust and credentials."""

from __future__ import annotations

from securemode.pexip.admin_credential import engine_client_certificate
from securemode.pexip.client import ManagementApi, RetryPolicy
from securemode.pexip.ledger import WriteOnlyLedger
from securemode.pexip.state import site_dir
from securemode.pexip.trust import choose_trust, record_pin, recorded_pin, site_ca_bundle
from securemode.site_loader import LoadedSite

API_PORT = 443


def management_api(loaded: LoadedSite, *, port: int = API_PORT, retry: RetryPolicy | None = None) -> ManagementApi:
    """A new session with the Management Node: CA trust once the PKI stage is done, the pin before.

    Every call makes a new session; verifiers call it too, so they never share the tasks' sessions. After
    the auth stage's cut-over it logs in with the engine's client certificate instead of the password.
    """
    site = loaded.site
    node = site.management_node
    host = str(node.address)
    pin = recorded_pin(loaded, host)
    if pin is None and node.https_fingerprint_sha256:
        pin = record_pin(loaded, host, node.https_fingerprint_sha256, source="site file")
    trust = choose_trust(host, port, node.fqdn, site_ca_bundle(loaded), pin)
    password = loaded.secret(node.admin_password)
    return ManagementApi(f"https://{host}:{port}", node.admin_username, password, trust, retry=retry,
                         client_certificate=engine_client_certificate(loaded))


def write_only_ledger(loaded: LoadedSite) -> WriteOnlyLedger:
    return WriteOnlyLedger(site_dir(loaded) / "write-only.json")
