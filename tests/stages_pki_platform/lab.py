"""Test lab for the pki and platform stages: a lab CA, a Management Node twin on port 443 of its own
loopback address, a site file that points at both, and the objects the nodes stage would have made."""

from __future__ import annotations

import copy
import errno
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from securemode.infra.pki.ca import LabCA
from securemode.infra.twin import TwinConfig, TwinManagementNode
from securemode.pexip.client import ManagementApi
from securemode.pexip.trust import CaBundle, PinnedFingerprint, record_pin, site_ca_bundle
from securemode.site_loader import LoadedSite, load_site

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "site.yaml"
FAST = TwinConfig(self_signed_key_bits=2048, password_hash_iterations=1000)
SECRETS = {
    "SMT_ADMIN_PASSWORD": "Adm1n-pki-platform-Secret",
    "SMT_NODE_PASSWORD": "node-secret-ZZ3",
    "SMT_NTP_KEY_1": "ntp-key-secret-ZZ4",
    "SMT_NTP_KEY_2": "ntp-key-secret-ZZ5",
    "SMT_SNMP_AUTH": "snmp-auth-secret-ZZ6",
    "SMT_SNMP_PRIV": "snmp-priv-secret-ZZ7",
    "SMT_LDAP_BIND": "ldap-bind-secret-ZZ8",
    "SMT_VSPHERE": "vsphere-secret-ZZ1",
    "SMT_SNMP_COMMUNITY": "community-ZZ9",
}


def set_secret_env() -> None:
    os.environ.update(SECRETS)


def free_loopback_443(count: int) -> list[str]:
    """``count`` random 127.x.y.z addresses whose port 443 is free (checked by binding)."""
    import socket

    rng = random.Random()
    found: list[str] = []
    while len(found) < count:
        addr = f"127.{rng.randint(100, 250)}.{rng.randint(1, 250)}.{rng.randint(2, 250)}"
        with socket.socket() as sock:
            try:
                sock.bind((addr, 443))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                    continue
                raise
        if addr not in found:
            found.append(addr)
    return found


def site_document(addresses: list[str], ca: LabCA, **pki: Any) -> dict[str, Any]:
    """The example site, pointed at the lab: every address is loopback (no packet leaves the host)."""
    doc: dict[str, Any] = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    mgr, conf1, conf2 = addresses
    doc["dns_servers"] = ["127.0.53.1", "127.0.53.2"]
    doc["ntp_servers"][0]["address"] = "127.0.123.1"
    doc["ntp_servers"][1]["address"] = "127.0.123.2"
    doc["syslog_servers"] = [{"address": "127.0.80.1", "port": 6514, "transport": "tls"}]
    doc["vsphere"]["password"] = "env:SMT_VSPHERE"
    doc["management_node"].update(address=mgr, admin_password="env:SMT_ADMIN_PASSWORD")
    for node, addr in zip(doc["conferencing_nodes"], (conf1, conf2), strict=True):
        node.update(address=addr, node_password="env:SMT_NODE_PASSWORD")
    doc["ntp_servers"][0]["key"] = "env:SMT_NTP_KEY_1"
    doc["ntp_servers"][1]["key"] = "env:SMT_NTP_KEY_2"
    doc["snmp"].update(auth_password="env:SMT_SNMP_AUTH", priv_password="env:SMT_SNMP_PRIV",
                       community="env:SMT_SNMP_COMMUNITY")
    doc["ldap"].update(bind_password="env:SMT_LDAP_BIND", ca_file=str(ca.root_path))
    doc["pki"] = {"ca_adapter": "lab", "ca_dir": str(ca.directory), "key_type": "RSA2048",
                  "trusted_ca_files": [str(ca.root_path), str(ca.intermediate_path)], **pki}
    return doc


def write_site(directory: Path, doc: dict[str, Any]) -> LoadedSite:
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_site(path)


@dataclass
class Lab:
    """One twin, one CA, one site; ``side_api()`` is a separate session (behind the engine's back)."""

    twin: TwinManagementNode
    ca: LabCA
    loaded: LoadedSite

    @property
    def address(self) -> str:
        return str(self.loaded.site.management_node.address)

    def pin(self) -> None:
        record_pin(self.loaded, self.address, self.twin.fingerprint_sha256(), "test fixture")

    def side_api(self) -> ManagementApi:
        """A separate session, trusting what the node serves now (pin or site CA)."""
        node = self.loaded.site.management_node
        served = self.twin.fingerprint_sha256().replace(":", "").lower()
        pinned = PinnedFingerprint(served)
        trust: PinnedFingerprint | CaBundle = pinned
        if self.twin.certificate_pem().count("BEGIN CERTIFICATE") > 1:
            trust = CaBundle(site_ca_bundle(self.loaded), node.fqdn)
        return ManagementApi(f"https://{self.address}", node.admin_username,
                             SecretStr(SECRETS["SMT_ADMIN_PASSWORD"]), trust)


def start_lab(
    directory: Path, *, addresses: list[str] | None = None, overrides: dict[str, Any] | None = None, **pki: Any
) -> Lab:
    """CA, site (``overrides`` replace top-level keys), twin on the first address's port 443, nodes."""
    set_secret_env()
    ca = LabCA.create(directory / "ca")
    addresses = addresses or free_loopback_443(3)
    loaded = write_site(directory, site_document(addresses, ca, **pki) | (overrides or {}))
    site = loaded.site
    twin = TwinManagementNode(directory / "twin", addresses[0], 443, config=FAST,
                              admin_password=SECRETS["SMT_ADMIN_PASSWORD"],
                              hostname=site.management_node.hostname, domain=site.management_node.domain,
                              dns_servers=("127.0.53.1",), ntp_servers=("127.0.123.1",)).start()
    lab = Lab(twin, ca, loaded)
    lab.pin()
    create_nodes(lab)
    return lab


def create_nodes(lab: Lab) -> None:
    """What the nodes stage leaves behind: the location and the Conferencing Nodes (defaults elsewhere)."""
    site = lab.loaded.site
    with lab.side_api() as api:
        locations: dict[str, str] = {}
        for loc in site.locations:
            locations[loc.name] = api.create("system_location", {"name": loc.name})
        for node in site.conferencing_nodes:
            api.create("worker_vm", {
                "name": node.name, "hostname": node.hostname, "domain": node.domain, "address": str(node.address),
                "netmask": str(node.netmask), "gateway": "192.0.2.1", "system_location": locations[node.location],
                "password": SECRETS["SMT_NODE_PASSWORD"],
            })
