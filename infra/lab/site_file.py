"""The ready-to-use site file of a running lab: every value points at a real lab part.

Secrets are ``file:`` references to the 0600 files the lab wrote; vSphere trust is the simulator's
certificate fingerprint, and the Management Node's self-signed HTTPS certificate is pinned by its
fingerprint (design principle 7). Nodes are at their site addresses (in the lab namespace as root).
The ``contingency`` section (the fallback deployment's nodes, ``<name>-c``) is there only when the lab
was started with ``--contingency``: only then does a fallback VM powered on in the simulator boot its node.
The LDAP server, CA and group DNs come from slapd; NTP servers carry their key ids; each syslog
server names the receiver file it writes (``evidence_file``) for the verifier."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from securemode.infra.lab.plan import LabPlan, NodePlan, SiteNetwork
from securemode.infra.lab.secret_files import SecretFiles
from securemode.infra.lab.twin_part import LOCATION
from securemode.infra.lab.vsphere_part import (
    DATASTORE,
    DISK_IOPS_LIMIT,
    MANAGEMENT_NETWORK,
    NODE_VLAN,
    VM_NETWORK,
    VsphereFacts,
)

LAB_ROLES = {"admin": "Read-write", "auditor": "Auditor", "readonly": "Read-only"}
"""The slapd users the lab's site names as administrators, with the role their group maps to."""
NTP_ASSIGNMENT = (("ntp1", 1, "SHA1"), ("ntp2", 2, "SHA256"))


@dataclass(frozen=True)
class SiteInputs:
    """What the site file needs from the started parts (public facts; secrets are file references)."""

    plan: LabPlan
    network: SiteNetwork  # the nodes' addresses as the engine reaches them
    https_fingerprint_sha256: str | None  # the twin's first-boot certificate, pinned until pki (bare: not yet)
    vsphere: VsphereFacts
    ldap: dict[str, Any]
    syslog_received: dict[str, str]
    ca_dir: Path
    ca_root: Path
    ca_intermediate: Path
    secrets: SecretFiles
    lab_id: str  # random per `lab up`: this lab's identity
    ova: Path | None = None  # the Management Node's OVA in the lab's image folder (bare profile)


def _syslog_address(inputs: SiteInputs) -> str:
    """The lab receiver's address, from the file it writes UDP messages to (its manifest facts)."""
    return inputs.plan.address("syslog")


def render(inputs: SiteInputs) -> dict[str, Any]:
    """The site as plain data (``securemode validate`` accepts it)."""
    plan, sec, net = inputs.plan, inputs.secrets, inputs.network
    mgr = plan.manager
    nodes = [*plan.nodes]
    site: dict[str, Any] = {
        "version": 1,
        # Each lab is a deployment of its own: a new name per `lab up`, so the engine's per-site state
        # (host-key and certificate pins, ledger, attestations) of an earlier lab on this block never applies.
        "name": f"lab-{plan.block}-{inputs.lab_id}",
        "vsphere": {
            "host": inputs.vsphere.host,
            "port": inputs.vsphere.port,
            "username": inputs.vsphere.username,
            "password": sec.ref("vsphere-password"),
            "trust": {"fingerprint_sha256": inputs.vsphere.tls_fingerprint},
            "datastore": DATASTORE,
            # every lab VM's disk is limited to DISK_IOPS_LIMIT; the host holds the fallback's VMs too (the
            # vms stage sums every VM on the host), and after a rebuild the primary's quarantined VMs, kept as
            # evidence beside their fresh copies; one VM's worth of headroom on top
            "iops_budget": DISK_IOPS_LIMIT * (2 * len(nodes) + len(plan.fallback) + 1),
            "reserved_vlans": [1002, 1003, 1004, 1005],
            "networks": {"management": dict(MANAGEMENT_NETWORK), "vm": dict(VM_NETWORK)},
            "login_banner": "securemode lab: authorised use only. Activity is monitored.",
            "syslog_host": f"udp://{_syslog_address(inputs)}:514",
        },
        "management_node": {
            "name": mgr.name,
            "hostname": mgr.hostname,
            "domain": plan.domain,
            "address": net.address(mgr),
            "netmask": net.netmask,
            "gateway": net.gateway,
            "vlan": NODE_VLAN,
            "https_fingerprint_sha256": inputs.https_fingerprint_sha256,
            "admin_password": sec.ref("admin-password"),
            # The lab's node drops SSH as soon as the wizard disabled the admin account, and its HTTPS
            # stays up through the console's reboot: waiting for a console that cannot come back is waste.
            "console_reopen_wait_s": 1.0,
        },
        "conferencing_nodes": [
            {
                "name": n.name,
                "hostname": n.hostname,
                "domain": plan.domain,
                "address": net.address(n),
                "netmask": net.netmask,
                "gateway": net.gateway,
                "vlan": NODE_VLAN,
                "location": LOCATION,
                "sip_tls_fqdn": f"sip{n.index:02d}.{plan.domain}",
                "node_password": sec.ref(f"node-password-{n.name}"),
            }
            for n in plan.conferencing
        ],
        "locations": [{"name": LOCATION}],
        "dns_servers": [plan.address("dns1"), plan.address("dns2")],
        "ntp_servers": [
            {"address": plan.address(server), "port": plan.ports["ntp"], "key_id": key_id, "algorithm": algorithm,
             "key": sec.ref(f"ntp-key-{key_id}")}
            for server, key_id, algorithm in NTP_ASSIGNMENT
        ],
        "syslog_servers": [
            {"address": plan.address("syslog"), "port": plan.ports[f"syslog_{t}"], "transport": t,
             # delivery_wait_s stays the site's default (5 s): while 20 nodes are verified at once, the lab's
             # management node has taken more than 2 s to forward an audit event (a FAIL for a working receiver).
             "evidence_file": inputs.syslog_received[t]}
            for t in ("udp", "tcp", "tls")
        ],
        "snmp": {
            "username": "labsnmp",
            "auth_password": sec.ref("snmp-auth-password"),
            "priv_password": sec.ref("snmp-priv-password"),
            "community": sec.ref("snmp-community"),
            "port": plan.ports["snmp"],
        },
        "ldap": {
            "server": plan.address("ldap"),
            "port": plan.ports["ldaps"],
            "tls": "ldaps",
            "base_dn": inputs.ldap["base_dn"],
            "bind_dn": inputs.ldap["bind_dn"],
            "bind_password": sec.ref("ldap-bind-password"),
            "ca_file": str(inputs.ca_root),
            "user_search_dn": "ou=people",
            "group_roles": {
                inputs.ldap["groups"]["admin"]: ["Read-write"],
                inputs.ldap["groups"]["operator"]: ["Read-write"],
                inputs.ldap["groups"]["auditor"]: ["Auditor"],
                inputs.ldap["groups"]["readonly"]: ["Read-only"],
            },
        },
        "client_certificate": "CN",
        "administrators": [
            {"username": user["uid"], "upn": user["upn"], "role": LAB_ROLES[role],
             "password": sec.ref(f"ldap-{role}-password")}
            for role, user in inputs.ldap["users"].items() if role in LAB_ROLES
        ],
        "global_settings": {
            # the lab CA's OCSP responder: a certificate the CA revoked (a rebuild revokes the old ones) is refused
            "ocsp_responder_url": f"http://{plan.address('ocsp')}:{plan.ports['ocsp']}/",
            "login_banner": "securemode lab: authorised use only. Activity is monitored.",
        },
        "pki": {
            "ca_adapter": "lab",
            "ca_dir": str(inputs.ca_dir),
            "key_type": "RSA2048",
            "trusted_ca_files": [str(inputs.ca_root), str(inputs.ca_intermediate)],
        },
        # The lab's nodes pull configuration every few seconds (a real node: about once a minute).
        "replication_wait_s": 20,
        # A rebuild after a compromise keeps a snapshot of each quarantined VM, and the lab's slapd lets the
        # site change its service account's password (as the directory's administrator).
        "rebuild": {
            "snapshot_for_forensics": True,
            "ldap_admin": {"dn": inputs.ldap["admin_dn"], "password": sec.ref("ldap-admin-password")},
        },
    }
    if plan.fallback_manager is not None:  # only a lab up with --contingency can boot a fallback
        site["contingency"] = {
            "management_node": _contingency(plan.fallback_manager, net),
            "conferencing_nodes": [_contingency(n, net) for n in plan.fallback_conferencing],
            "local_admin_password": sec.ref("contingency-admin-password"),
        }
    node = site["management_node"]
    if inputs.https_fingerprint_sha256 is None:  # not installed yet: the bootstrap stage pins what it serves
        del node["https_fingerprint_sha256"]
    if inputs.ova is not None:
        node["ova"] = str(inputs.ova)
    return site


def _contingency(node: NodePlan, net: SiteNetwork) -> dict[str, str]:
    """A fallback node at its site address (in the lab namespace as root, like the primary's nodes)."""
    return {"name": node.name, "hostname": node.hostname, "address": net.address(node)}


def write(inputs: SiteInputs, path: Path) -> Path:
    header = (
        "# securemode lab site, written by `securemode lab up` for the running lab. Secrets are file: references\n"
        "# to 0600 files under the lab's state folder. `securemode lab down` stops the lab.\n"
    )
    path.write_text(header + yaml.safe_dump(render(inputs), sort_keys=False, width=120))
    return path
