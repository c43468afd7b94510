"""Test lab for the auth stage: the lab CA, a slapd seeded with a user and group per role, a Management
Node twin on port 443 of its own loopback address that logs administrators in against that slapd, and a
site whose ``ldap`` section points at it. The pki and platform stages have run (roles, trusted CAs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from securemode.catalogue import Stage
from securemode.flows.stages import load
from securemode.infra.pki.ca import LabCA
from securemode.infra.services import slapd
from securemode.infra.twin import TwinManagementNode
from tests.stage_steps import run_steps
from tests.stages_pki_platform.lab import FAST, SECRETS, Lab, create_nodes, free_loopback_443, site_document, write_site

LDAP_BIND_ENV = "SMT_LDAP_BIND"
ADMIN_ROLES = {"admin": "Read-write", "auditor": "Auditor", "readonly": "Read-only"}


def password_env(role: str) -> str:
    return f"SMT_LDAP_{role.upper()}"


@dataclass
class AuthLab:
    """The pki/platform lab plus the directory its twin logs administrators in against."""

    lab: Lab
    directory: slapd.SlapdHandle

    def stop(self) -> None:
        self.lab.twin.stop()
        self.directory.stop()


def ldap_section(directory: slapd.SlapdHandle, ca: LabCA) -> dict[str, object]:
    host, port = directory.endpoints["ldaps"]
    return {
        "server": host,
        "port": port,
        "tls": "ldaps",
        "base_dn": directory.base_dn,
        "bind_dn": directory.bind_dn,
        "bind_password": f"env:{LDAP_BIND_ENV}",
        "ca_file": str(ca.root_path),
        "user_search_dn": "ou=people",
        "group_roles": {
            directory.groups["admin"]: ["Read-write"],
            directory.groups["operator"]: ["Read-write"],
            directory.groups["auditor"]: ["Auditor"],
            directory.groups["readonly"]: ["Read-only"],
        },
    }


def administrators(directory: slapd.SlapdHandle) -> list[dict[str, object]]:
    """The slapd users of three roles, named as the site's administrators."""
    return [
        {
            "username": directory.users[role].uid,
            "upn": directory.users[role].upn,
            "role": name,
            "password": f"env:{password_env(role)}",
        }
        for role, name in ADMIN_ROLES.items()
    ]


def start_auth_lab(directory_path: Path, **overrides: object) -> AuthLab:
    """slapd, then the twin and site; then the pki and platform stages, as the pipeline runs them first."""
    ca = LabCA.create(directory_path / "ca")
    addresses = free_loopback_443(3)
    server = slapd.start(directory_path / "slapd", ca, addresses[0])
    try:
        os.environ.update(SECRETS, **{LDAP_BIND_ENV: server.bind_password})
        os.environ.update({password_env(role): server.users[role].password for role in ADMIN_ROLES})
        doc = (
            site_document(addresses, ca)
            | {"ldap": ldap_section(server, ca), "administrators": administrators(server)}
            | overrides
        )
        loaded = write_site(directory_path, doc)
        node = loaded.site.management_node
        twin = TwinManagementNode(
            directory_path / "twin",
            addresses[0],
            443,
            config=FAST,
            admin_password=SECRETS["SMT_ADMIN_PASSWORD"],
            hostname=node.hostname,
            domain=node.domain,
            dns_servers=("127.0.53.1",),
            ntp_servers=("127.0.123.1",),
            ldap_port=server.endpoints["ldaps"][1],
            ldap_ca_file=str(ca.root_path),
            ldap_tls_mode="ldaps",
        ).start()
    except BaseException:
        server.stop()
        raise
    lab = Lab(twin, ca, loaded)
    lab.pin()
    create_nodes(lab)
    for stage in (Stage.PKI, Stage.PLATFORM):
        run_steps(load(stage), loaded, apply=True)
    return AuthLab(lab, server)
