"""Rules that span several fields of the site file, each returning problems rather than raising.

Kept apart from the models so each rule is one small function with one message, and so the
loader can report every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from securemode.catalogue.gates import GATES
from securemode.ntp_key_format import FIX as NTP_KEY_FIX
from securemode.ntp_key_format import key_problem
from securemode.problems import Problem, Severity, unknown_ids
from securemode.secrets import SecretError, resolve
from securemode.site import (
    GUIDE_MANAGEMENT_DSCP,
    GUIDE_MEDIA_DSCP,
    GUIDE_MTU,
    GUIDE_SESSION_TIMEOUT_MINUTES,
    GUIDE_SIGNALLING_DSCP,
    RESERVED_GUEST_TAGGING_VLAN,
    ClientCertificateMode,
    ContingencyNode,
    NodeCommon,
    Role,
    Site,
)

MIN_DNS = 2
MIN_NTP = 2
MIN_SYSLOG = 1
MIN_SNMP_PASSWORD = 8
MAX_SNMP_COMMUNITY = 16

Rule = Callable[[Site, Path], Iterable[Problem]]


def vlan_rules(site: Site, _: Path) -> Iterable[Problem]:
    """Never VLAN 4095 (virtual guest tagging) and never a VLAN on the site's reserved list."""
    reserved = set(site.vsphere.reserved_vlans)
    vlans = [
        ("vsphere.networks.management.vlan", site.vsphere.networks.management.vlan),
        ("vsphere.networks.vm.vlan", site.vsphere.networks.vm.vlan),
        ("management_node.vlan", site.management_node.vlan),
    ]
    vlans += [(f"conferencing_nodes[{i}].vlan", n.vlan) for i, n in enumerate(site.conferencing_nodes)]
    for field, vlan in vlans:
        if vlan == RESERVED_GUEST_TAGGING_VLAN:
            yield Problem(
                field=field,
                message="VLAN 4095 is reserved for virtual guest tagging and the guide forbids it",
                fix="use a VLAN id between 1 and 4094 that is not on vsphere.reserved_vlans",
            )
        elif vlan in reserved:
            yield Problem(
                field=field,
                message=f"VLAN {vlan} is on the site's reserved list (vsphere.reserved_vlans)",
                fix="choose a VLAN that is not reserved, or correct vsphere.reserved_vlans",
            )


def dedicated_engine_account(site: Site, _: Path) -> Iterable[Problem]:
    """The engine's vSphere account becomes the only lockdown exception user: never root."""
    if site.vsphere.username == "root":
        yield Problem(field="vsphere.username", message="the engine would put root on the lockdown exception list, "
                      "keeping the most powerful account reachable while lockdown is on",
                      fix="create a dedicated ESXi account with the least role the engine needs and name it here",
                      severity=Severity.WARNING)


def preapproved_steps(site: Site, _: Path) -> Iterable[Problem]:
    """approvals.preapproved names gated steps the engine has; a misspelt one would approve nothing."""
    if not site.approvals.preapproved:
        return
    yield from unknown_ids("approvals.preapproved", site.approvals.preapproved, list(GATES),
                           "the name of a gated step")


def separate_pnics(site: Site, _: Path) -> Iterable[Problem]:
    """Guide: management access on one physical network, VMs on a separate one."""
    nets = site.vsphere.networks
    shared = sorted(set(nets.management.pnics) & set(nets.vm.pnics))
    if shared:
        yield Problem(
            field="vsphere.networks.vm.pnics",
            message=f"physical NIC(s) {', '.join(shared)} carry both management and VM traffic",
            fix="put the management and VM networks on different physical NICs",
        )


def server_counts(site: Site, _: Path) -> Iterable[Problem]:
    """Guide: at least two DNS servers, two NTP servers and one syslog server."""
    if len(site.dns_servers) < MIN_DNS:
        yield Problem(field="dns_servers", message=f"{len(site.dns_servers)} DNS server(s) given; the guide needs at "
                      f"least {MIN_DNS}", fix="list at least two DNS server addresses")
    if len(site.ntp_servers) < MIN_NTP:
        yield Problem(field="ntp_servers", message=f"{len(site.ntp_servers)} NTP server(s) given; the guide needs at "
                      f"least {MIN_NTP}", fix="list at least two NTP servers, each with key_id and key")
    if len(site.syslog_servers) < MIN_SYSLOG:
        yield Problem(field="syslog_servers", message="no remote syslog server given; the guide needs at least one",
                      fix="add a syslog server with address, port and transport")


def ntp_keys(site: Site, _: Path) -> Iterable[Problem]:
    """Guide: each NTP server's configuration must include key authentication credentials."""
    for i, server in enumerate(site.ntp_servers):
        if server.key_id is None or server.key is None:
            yield Problem(field=f"ntp_servers[{i}]", message=f"NTP server {server.address} has no key",
                          fix="set key_id (1–65535) and key (a secret reference) for it")


def ntp_key_values(site: Site, base: Path) -> Iterable[Problem]:
    """Each NTP key that resolves now has the format and length its algorithm takes (never printed)."""
    for i, server in enumerate(site.ntp_servers):
        if server.key is None or server.key.startswith("prefect-secret:"):
            continue  # prefect-secret: keys are checked where the NTP task resolves them
        try:
            value = resolve(server.key, base).get_secret_value()
        except SecretError:
            continue  # reported by secret_references
        problem = key_problem(value, server.algorithm)
        if problem:
            yield Problem(field=f"ntp_servers[{i}].key", message=f"the key behind {server.key}: {problem}",
                          fix=NTP_KEY_FIX)


def snmp_rules(site: Site, base: Path) -> Iterable[Problem]:
    """SNMPv3 passwords of 8 characters or more; a community of 1–16 characters that is not 'public'."""
    try:
        community = resolve(site.snmp.community, base).get_secret_value()
    except SecretError:
        community = None  # reported by secret_references
    if community == "public":
        yield Problem(field="snmp.community", message="the community is 'public'",
                      fix="choose a community string other than 'public'")
    elif community is not None and not 1 <= len(community) <= MAX_SNMP_COMMUNITY:
        yield Problem(field="snmp.community", message=f"the community behind {site.snmp.community} is "
                      f"{len(community)} characters; the node takes 1 to {MAX_SNMP_COMMUNITY}",
                      fix=f"use a community of 1 to {MAX_SNMP_COMMUNITY} characters")
    for field in ("auth_password", "priv_password"):
        ref = getattr(site.snmp, field)
        try:
            value = resolve(ref, base).get_secret_value()
        except SecretError:
            continue  # reported by secret_references
        if len(value) < MIN_SNMP_PASSWORD:
            yield Problem(field=f"snmp.{field}", message=f"the password behind {ref} is shorter than "
                          f"{MIN_SNMP_PASSWORD} characters", fix="use an SNMPv3 password of 8 to 100 characters")


def unique_nodes(site: Site, _: Path) -> Iterable[Problem]:
    """Node names, host names and addresses are unique across the deployment."""
    nodes: list[tuple[str, NodeCommon]] = [("management_node", site.management_node)]
    nodes += [(f"conferencing_nodes[{i}]", n) for i, n in enumerate(site.conferencing_nodes)]
    for attr in ("name", "hostname", "address"):
        seen: dict[str, str] = {}
        for field, node in nodes:
            value = str(getattr(node, attr))
            key = value.lower()
            if key in seen:
                yield Problem(field=f"{field}.{attr}", message=f"'{value}' is already used by {seen[key]}",
                              fix=f"give every node its own {attr}")
            else:
                seen[key] = field


def contingency_nodes(site: Site, _: Path) -> Iterable[Problem]:
    """The fallback mirrors the primary node for node: one fallback conferencing node per primary one, paired
    by position; its names, host names and addresses are its own (neither the primary's nor repeated)."""
    fallback = site.contingency
    if fallback is None:
        return
    primary, mirrored = len(site.conferencing_nodes), len(fallback.conferencing_nodes)
    if mirrored != primary:
        yield Problem(field="contingency.conferencing_nodes",
                      message=f"lists {mirrored} fallback node(s) for the primary's {primary} conferencing node(s)",
                      fix="list exactly one fallback node per entry of conferencing_nodes, in the same order (the "
                          "fallback of conferencing_nodes[i] is contingency.conferencing_nodes[i])")
    used: list[tuple[str, NodeCommon | ContingencyNode]] = [("management_node", site.management_node)]
    used += [(f"conferencing_nodes[{i}]", n) for i, n in enumerate(site.conferencing_nodes)]
    nodes: list[tuple[str, ContingencyNode]] = [("contingency.management_node", fallback.management_node)]
    nodes += [(f"contingency.conferencing_nodes[{i}]", n) for i, n in enumerate(fallback.conferencing_nodes)]
    for attr in ("name", "hostname", "address"):
        seen = {str(getattr(node, attr)).lower(): field for field, node in used}
        for field, node in nodes:
            value = str(getattr(node, attr))
            if value.lower() in seen:
                yield Problem(field=f"{field}.{attr}", message=f"'{value}' is already used by {seen[value.lower()]}",
                              fix=f"give every fallback node its own {attr}, used by no primary node and no other "
                                  "fallback node")
            else:
                seen[value.lower()] = field


def locations_exist(site: Site, _: Path) -> Iterable[Problem]:
    names = {loc.name for loc in site.locations}
    for i, node in enumerate(site.conferencing_nodes):
        if node.location not in names:
            yield Problem(field=f"conferencing_nodes[{i}].location", message=f"location '{node.location}' is not "
                          "defined", fix=f"use one of: {', '.join(sorted(names))}, or add it under locations")


def iops_budget(site: Site, _: Path) -> Iterable[Problem]:
    """Guide: the sum of all IOPS limits of the VMs on the host must not exceed the datastore's capacity."""
    total = sum(node.vm.disk_iops_limit for node in site.nodes())
    if total > site.vsphere.iops_budget:
        yield Problem(field="vsphere.iops_budget", message=f"the nodes' disk IOPS limits add up to {total}, above the "
                      f"datastore budget of {site.vsphere.iops_budget}",
                      fix="lower vm.disk_iops_limit on some nodes or raise vsphere.iops_budget to the real capacity")


def every_role_mapped(site: Site, _: Path) -> Iterable[Problem]:
    """Guide: every account role is mapped to at least one LDAP group."""
    mapped = {role for roles in site.ldap.group_roles.values() for role in roles}
    missing = [role.value for role in Role if role not in mapped]
    if missing:
        yield Problem(field="ldap.group_roles", message=f"role(s) {', '.join(missing)} mapped to no LDAP group",
                      fix="map every account role (Read-only, Read-write, Auditor) to at least one group DN")


def administrator_identities(site: Site, _: Path) -> Iterable[Problem]:
    """A UPN-form client certificate needs each administrator's UPN; each username once."""
    names = [a.username.lower() for a in site.administrators]
    for i, admin in enumerate(site.administrators):
        if site.client_certificate is ClientCertificateMode.UPN and not admin.upn:
            yield Problem(field=f"administrators[{i}].upn", message="is required when client_certificate is UPN",
                          fix="give the user's userPrincipalName (user@realm)")
        if names.count(admin.username.lower()) > 1:
            yield Problem(field=f"administrators[{i}].username", message=f"{admin.username} is named twice",
                          fix="name each administrator once")


def secret_references(site: Site, base: Path) -> Iterable[Problem]:
    """Every env: and file: reference resolves now; prefect-secret: ones are checked when the server is up."""
    for field, ref in _secret_refs(site):
        if ref.startswith("prefect-secret:"):
            continue
        try:
            resolve(ref, base)
        except SecretError as exc:
            yield Problem(field=field, message=f"secret reference {ref} does not resolve ({exc})",
                          fix="set the variable or create the file, or point the reference elsewhere")


def guide_recommendations(site: Site, _: Path) -> Iterable[Problem]:
    """Values the guide only recommends: allowed, but said out loud."""
    recommended = [
        ("global_settings.management_dscp", site.global_settings.management_dscp, GUIDE_MANAGEMENT_DSCP),
        ("global_settings.session_timeout_minutes", site.global_settings.session_timeout_minutes,
         GUIDE_SESSION_TIMEOUT_MINUTES),
    ]
    for i, loc in enumerate(site.locations):
        recommended += [
            (f"locations[{i}].media_dscp", loc.media_dscp, GUIDE_MEDIA_DSCP),
            (f"locations[{i}].signalling_dscp", loc.signalling_dscp, GUIDE_SIGNALLING_DSCP),
            (f"locations[{i}].mtu", loc.mtu, GUIDE_MTU),
        ]
    for field, value, guide in recommended:
        if value != guide:
            yield Problem(field=field, message=f"{value} differs from the guide's recommended {guide}",
                          fix="keep it only if this deployment needs it", severity=Severity.WARNING)


def _secret_refs(site: Site) -> list[tuple[str, str]]:
    refs = [
        ("vsphere.password", site.vsphere.password),
        ("management_node.admin_password", site.management_node.admin_password),
        ("snmp.auth_password", site.snmp.auth_password),
        ("snmp.priv_password", site.snmp.priv_password),
        ("snmp.community", site.snmp.community),
        ("ldap.bind_password", site.ldap.bind_password),
    ]
    refs += [(f"administrators[{i}].password", a.password) for i, a in enumerate(site.administrators) if a.password]
    refs += [(f"ntp_servers[{i}].key", s.key) for i, s in enumerate(site.ntp_servers) if s.key]
    refs += [(f"conferencing_nodes[{i}].node_password", n.node_password)
             for i, n in enumerate(site.conferencing_nodes) if n.node_password]
    if site.contingency:
        refs.append(("contingency.local_admin_password", site.contingency.local_admin_password))
    return refs


RULES: tuple[Rule, ...] = (
    vlan_rules,
    dedicated_engine_account,
    preapproved_steps,
    separate_pnics,
    server_counts,
    ntp_keys,
    ntp_key_values,
    snmp_rules,
    unique_nodes,
    contingency_nodes,
    locations_exist,
    iops_budget,
    every_role_mapped,
    administrator_identities,
    secret_references,
    guide_recommendations,
)


def check_rules(site: Site, base_dir: Path) -> list[Problem]:
    """Every cross-field problem of ``site``; ``base_dir`` resolves relative file references."""
    return [problem for rule in RULES for problem in rule(site, base_dir)]
