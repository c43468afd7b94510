"""Which credentials a rebuild after a compromise rotates, and whether each can be: read from the site only.

Every secret reference the deployment holds is listed, with what happens to it: ``rotate`` (a new value is
generated and written through the reference's backend), or ``kept`` with the reason (the fallback's own
password, the host's, an administrator's own LDAP password, the LDAP bind password when the site cannot
change it, NTP keys of servers the site does not manage). An ``env:`` reference among those to rotate stops
the rebuild before anything changes: :func:`refuse_unwritable` names each field and the fix.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from securemode.problems import Problem
from securemode.secret_store import writable
from securemode.site import Site

Kind = Literal["password", "community"]
ROTATE = "rotate"
KEPT = "kept"
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Credential:
    """One secret reference of the site: its field path, the reference, and what the rebuild does with it."""

    field: str
    ref: str
    action: str  # ROTATE or KEPT
    kind: Kind = "password"
    why_kept: str = ""
    applied_by: str = "pipeline"  # who puts the new value in force: the redeploy's pipeline, or "ldap"

    @property
    def writable(self) -> bool:
        return writable(self.ref)


def credentials(site: Site, nodes: list[str]) -> list[Credential]:
    """Every secret reference of the site with the rebuild's action; ``nodes``: the VMs being rebuilt."""
    mn = site.management_node
    rebuilt_mn = mn.name in nodes
    out = [
        Credential(
            "management_node.admin_password",
            mn.admin_password,
            ROTATE if rebuilt_mn else KEPT,
            why_kept="" if rebuilt_mn else "the Management Node is not rebuilt (name it, or name no node)",
        )
    ]
    for i, node in enumerate(site.conferencing_nodes):
        if node.node_password:
            out.append(Credential(f"conferencing_nodes[{i}].node_password", node.node_password, ROTATE))
    out += [
        Credential("snmp.auth_password", site.snmp.auth_password, ROTATE),
        Credential("snmp.priv_password", site.snmp.priv_password, ROTATE),
        Credential("snmp.community", site.snmp.community, ROTATE, kind="community"),
    ]
    admin = site.rebuild.ldap_admin
    out.append(
        Credential(
            "ldap.bind_password",
            site.ldap.bind_password,
            ROTATE if admin else KEPT,
            applied_by="ldap",
            why_kept="" if admin else "the site cannot change it (set rebuild.ldap_admin to let the rebuild rotate it)",
        )
    )
    if admin:
        out.append(
            Credential(
                "rebuild.ldap_admin.password",
                admin.password,
                KEPT,
                why_kept="the directory's own administrator, not held by the deployment",
            )
        )
    kept = [(f"ntp_servers[{i}].key", server.key, "the NTP server is not managed by this site (its key is set there)")
            for i, server in enumerate(site.ntp_servers)]
    kept += [(f"administrators[{i}].password", user.password,
              "a person's own LDAP password (their client certificate is re-issued)")
             for i, user in enumerate(site.administrators)]
    out += [Credential(field, ref, KEPT, why_kept=why) for field, ref, why in kept if ref]
    out.append(Credential("vsphere.password", site.vsphere.password, KEPT, why_kept="the ESXi host is not rebuilt"))
    if site.contingency:
        out.append(
            Credential(
                "contingency.local_admin_password",
                site.contingency.local_admin_password,
                KEPT,
                why_kept="the fallback is not the compromised deployment",
            )
        )
    if site.notifications:
        out.append(
            Credential(
                "notifications.webhook_url",
                site.notifications.webhook_url,
                KEPT,
                why_kept="not a credential of the deployment",
            )
        )
    if site.evidence_signing_key:
        out.append(
            Credential(
                "evidence_signing_key",
                site.evidence_signing_key,
                KEPT,
                why_kept="signs the evidence, not a credential of the deployment",
            )
        )
    return out


def rebuilt_vms(site: Site, nodes: list[str] | None) -> tuple[list[str], list[Problem]]:
    """The VMs a rebuild replaces: the named primary nodes (in the site's order), or all of them; a name that is
    not a primary node is a problem."""
    known = [n.name for n in site.nodes()]
    unknown = [n for n in nodes or [] if n not in known]
    if unknown:
        return [], [
            Problem(
                field="nodes",
                message=f"{', '.join(unknown)} is not a node of the primary deployment",
                fix=f"name any of {', '.join(known)}",
            )
        ]
    return [n for n in known if not nodes or n in nodes], []


def to_rotate(site: Site, nodes: list[str]) -> list[Credential]:
    return [c for c in credentials(site, nodes) if c.action == ROTATE]


def refuse_unwritable(site: Site, nodes: list[str]) -> list[Problem]:
    """One problem per credential to rotate whose reference the engine cannot write (``env:``)."""
    return [
        Problem(
            field=c.field,
            message=f"is {c.ref}: an environment variable cannot be rotated by the engine",
            fix="point it at a file: or prefect-secret: reference (holding the current value), then rerun",
        )
        for c in to_rotate(site, nodes)
        if not c.writable
    ]


def new_value(kind: Kind) -> str:
    """A fresh random value: a 24-character password, or a 16-character SNMP community (never 'public')."""
    length = 16 if kind == "community" else 24
    body = "".join(secrets.choice(_ALPHABET) for _ in range(length - 3))
    return f"Rb{body}7"


def rebuild_problems(site: Site, nodes: list[str] | None) -> tuple[list[str], list[Problem]]:
    """The VMs a rebuild replaces, and what stops it before anything changes (an unknown node, a credential to
    rotate behind a reference the engine cannot write)."""
    vms, problems = rebuilt_vms(site, nodes)
    return vms, problems + (refuse_unwritable(site, vms) if not problems else [])
