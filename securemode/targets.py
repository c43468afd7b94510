"""What each :class:`TargetKind` means for a site: the targets a control of that kind is checked on.

One place, so every stage's verify loop and the test of item "a stage reports exactly the catalogue's ids
for its targets" agree on which nodes, servers and locations a row covers, and on the names reports show.
"""

from __future__ import annotations

from collections.abc import Callable

from securemode.binding import Target
from securemode.catalogue import TargetKind
from securemode.site import Site

PLATFORM_TARGET = "platform"  # the deployment as a whole, read through the Management Node
CONTINGENCY_TARGET = "contingency"  # the contingency deployment as a whole (its parity, exceptions, licence)


def esxi_host_name(site: Site) -> str:
    """The name results about the ESXi host carry: the inventory name if the site gives one, else its address."""
    return site.vsphere.esxi_host or site.vsphere.host


def syslog_label(address: str, port: int, transport: str) -> str:
    return f"{address}:{port}/{transport}"


def ldap_label(site: Site) -> str:
    """The name results about the LDAP server carry: host:port."""
    return f"{site.ldap.server}:{site.ldap.port}"


def targets_of(site: Site, kind: TargetKind) -> list[Target]:
    """The targets of ``kind`` in ``site``, in site order; a kind a built stage does not use raises."""
    management = site.management_node
    nodes = [Target(kind, n.name, n) for n in site.nodes()]
    match kind:
        case TargetKind.ESXI_HOST:
            return [Target(kind, esxi_host_name(site), site.vsphere)]
        case TargetKind.VM:  # the Management Node's VM (the vms stage); Conferencing Node VMs come with `nodes`
            return [Target(kind, management.name, management)]
        case TargetKind.MANAGEMENT_NODE:
            return [Target(kind, management.name, management)]
        case TargetKind.CONFERENCING_NODE:
            return [Target(kind, n.name, n) for n in site.conferencing_nodes]
        case TargetKind.NODE:
            return nodes
        case TargetKind.SIP_LISTENER:
            return [Target(kind, n.name, n) for n in site.conferencing_nodes] or [
                Target(kind, management.name, management)
            ]
        case TargetKind.PLATFORM:
            return [Target(kind, PLATFORM_TARGET, site)]
        case TargetKind.LOCATION:
            return [Target(kind, loc.name, loc) for loc in site.locations]
        case TargetKind.SERVER_OWNER:
            return [Target(kind, management.name, management), *(Target(kind, loc.name, loc) for loc in site.locations)]
        case TargetKind.NTP_SERVER:
            return [Target(kind, s.address, s) for s in site.ntp_servers]
        case TargetKind.DNS_SERVER:
            return [Target(kind, str(a), a) for a in site.dns_servers]
        case TargetKind.LDAP:
            return [Target(kind, ldap_label(site), site.ldap)]
        case TargetKind.CONTINGENCY if site.contingency is not None:
            return [Target(kind, CONTINGENCY_TARGET, site.contingency)]
        case TargetKind.FALLBACK_VM if site.contingency is not None:
            plan = site.contingency
            return [Target(kind, n.name, n) for n in (plan.management_node, *plan.conferencing_nodes)]
        case TargetKind.SYSLOG_SERVER:
            return [Target(kind, syslog_label(s.address, s.port, s.transport.value), s) for s in site.syslog_servers]
    raise LookupError(f"no built stage checks targets of kind {kind.value}")


def resolver(site: Site) -> Callable[[TargetKind], list[Target]]:
    return lambda kind: targets_of(site, kind)
