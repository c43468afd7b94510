"""What each lab part should look like now, read from the deployment's own state (the twin's state).

The lab changes as the engine deploys it: the pki stage assigns certificates signed by the site's CA
(the Management Node and the Conferencing Nodes then serve those instead of their first-boot
self-signed ones), and the security wizard's "disable system administrator account" closes the
manager's SSH port for good; the auth stage's cut-over requires a client certificate for the API.
``lab status`` probes every part against the state derived here and prints which state it expected, so
a deployed lab reads as healthy and a broken one names the part.
Read-only: the twin's SQLite state is opened read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from securemode.infra.lab.manifest import Manifest

SITE_CA = "site CA"
FIRST_BOOT = "first-boot self-signed certificate"


@dataclass(frozen=True)
class Expected:
    """The state the deployment is in, as the lab's parts must reflect it."""

    site_ca_nodes: frozenset[str]  # nodes (name or hostname) whose assigned certificate a CA issued (pki did)
    console_closed: bool  # the security wizard disabled the system administrator account
    drop_closed_ports: bool  # the security wizard's answer: closed ports drop (else reject)
    client_certificate_required: bool = False  # the auth stage's cut-over: no API access without a certificate

    def certificate(self, node: str) -> str:
        """Which certificate the node's HTTPS should present: ``SITE_CA`` or ``FIRST_BOOT``."""
        return SITE_CA if node in self.site_ca_nodes else FIRST_BOOT

    def closed_port_behaviour(self) -> str:
        return "dropped" if self.drop_closed_ports else "rejected"


def _ca_issued(chain_pem: str) -> bool:
    """Whether the first certificate of ``chain_pem`` was issued by someone else (not self-signed)."""
    leaf = x509.load_pem_x509_certificate(chain_pem.encode())
    return leaf.issuer != leaf.subject


def twin_state_dir(m: Manifest) -> Path:
    """The Management Node's state folder: the twin's, or on a power-driven lab the one the watcher boots it with."""
    part = m.parts["twin"] if "twin" in m.parts else m.parts["power"]
    return Path(str(part.facts["state_dir"]))


def read_expected(m: Manifest, state_dir: Path | None = None) -> Expected:
    """The expected state from the twin's state folder (the Management Node's configuration)."""
    from securemode.infra.twin.state.twin_state import DB_NAME, TwinState

    state_dir = state_dir or twin_state_dir(m)
    if not (state_dir / DB_NAME).exists():
        raise FileNotFoundError(f"the twin's state ({state_dir / DB_NAME}) is missing")
    state = TwinState(state_dir, readonly=True)
    try:
        security = state.security_settings()
        site_ca: set[str] = set()
        for resource in ("management_vm", "worker_vm"):
            for node in state.store.all(resource):
                identity = state.tls_identity(node)
                if identity is not None and _ca_issued(identity[0]):  # known by name or hostname (the lab's name)
                    site_ca.update(str(node[key]) for key in ("name", "hostname") if node.get(key))
        certificates = state.authentication().get("client_certificate") not in (None, "", "NO")
        return Expected(frozenset(site_ca), security.disable_admin_account, security.drop_closed_ports, certificates)
    finally:
        state.close()


class DeploymentState:
    """:func:`read_expected` once per status check, on first use (a part that needs no state never reads it)."""

    def __init__(self, m: Manifest) -> None:
        self._manifest = m
        self._expected: Expected | None = None

    def get(self) -> Expected:
        if self._expected is None:
            self._expected = read_expected(self._manifest)
        return self._expected
