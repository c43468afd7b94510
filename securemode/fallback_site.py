"""The contingency deployment's desired state: the primary's site with the guide's exceptions applied.

The guide's fallback "should mimic the primary installation" except that it authenticates with "LDAP
database and local database", does not require client certificates and is deployed without a licence.
So the fallback has no site file of its own: it is derived here from the primary's, the per-node
identities taken from the ``contingency`` section, and every stage builds and checks it with the same
code as the primary. Its site path is the primary's with :data:`SUFFIX` appended, so a task that loads
its site from a path (in another process too) gets the fallback again, with relative paths and secret
files resolved next to the primary's site file.
"""

from __future__ import annotations

from collections.abc import Mapping

from securemode.site import Contingency, ContingencyNode, NodeCommon, Site

SUFFIX = "#contingency"

_NO_CERTIFICATES = "contingency exception (guide): Require client certificate is set to Not required"
_LDAP_AND_LOCAL = "contingency exception (guide): Authentication source is LDAP database and local database"

# The primary's controls the fallback is excepted from, with the guide's reason; its own rows
# (contingency.auth.ldap-and-local, contingency.auth.no-client-cert) prove the exceptions hold.
EXCEPTED_CONTROLS: Mapping[str, str] = {
    "auth.client-certificate": _NO_CERTIFICATES,
    "auth.client-certificate.issued": _NO_CERTIFICATES,
    "auth.certificate-required": _NO_CERTIFICATES,
    "auth.unknown-user-certificate-refused": _NO_CERTIFICATES,
    "auth.source.ldap-only": _LDAP_AND_LOCAL,
    "auth.local-admin-refused": _LDAP_AND_LOCAL,
}


def is_fallback_path(path: str) -> bool:
    return path.endswith(SUFFIX)


def fallback_path(primary_path: str) -> str:
    """The site path under which the stages build and check the fallback of ``primary_path``."""
    return primary_path if is_fallback_path(primary_path) else primary_path + SUFFIX


def primary_path(path: str) -> str:
    return path[: -len(SUFFIX)] if is_fallback_path(path) else path


def _identity(primary: NodeCommon, fallback: ContingencyNode) -> dict[str, object]:
    """The fields that are the node's own: never copied from the primary (its addresses would clash)."""
    return {
        "name": fallback.name,
        "hostname": fallback.hostname,
        "address": fallback.address,
        "ipv6_address": fallback.ipv6_address,
        "ipv6_gateway": primary.ipv6_gateway if fallback.ipv6_address else None,
    }


def derive(site: Site, plan: Contingency) -> Site:
    """The fallback's site: the primary's desired state with the fallback's identities and admin password."""
    manager = site.management_node.model_copy(
        update={
            **_identity(site.management_node, plan.management_node),
            "https_fingerprint_sha256": plan.management_node.https_fingerprint_sha256,
            "admin_password": plan.local_admin_password,
        }
    )
    nodes = [
        primary.model_copy(update=_identity(primary, f))
        for primary, f in zip(site.conferencing_nodes, plan.conferencing_nodes, strict=True)
    ]
    vsphere = site.vsphere.model_copy(update={"esxi_host": plan.esxi_host}) if plan.esxi_host else site.vsphere
    return site.model_copy(
        update={
            "name": f"{site.name}{SUFFIX.replace('#', '-')}",
            "vsphere": vsphere,
            "management_node": manager,
            "conferencing_nodes": nodes,
            "contingency": None,
        }
    )
