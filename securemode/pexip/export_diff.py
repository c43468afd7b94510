"""The parity diff between the primary's and the fallback's configuration exports (guide: Contingency
deployment): every difference, each judged allowed or not, with the reason.

The guide's fallback "should mimic the primary installation", except: authentication "LDAP database and
local database" (``LDAP+LOCAL``), client certificates not required (``NO``), no licence. Each node of the
fallback is a different machine, so its identity differs too: name, hostname, addresses (given by
``identities``, primary value → fallback value) and its own TLS certificate and key. Anything else that
differs is not allowed. Pure functions: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from securemode.pexip.export import ConfigurationExport, Entry
from securemode.results import JsonValue
from securemode.site import Site

FALLBACK_SOURCE = "LDAP+LOCAL"
FALLBACK_CLIENT_CERTIFICATE = "NO"
NODE_SECTIONS = frozenset({"management_vm", "worker_vm"})
CERTIFICATE_SECTION = "tls_certificate"
NODE_CERTIFICATE_FIELDS = frozenset({"tls_certificate", "tls_client_certificate"})
# fields of a node certificate that must still match: the same CA issues both sides' certificates, for the
# same uses
CERTIFICATE_PARITY_FIELDS = frozenset({"issuer_name", "issuer_key_id", "client_auth_usage", "server_auth_usage"})

REASON_SOURCE = "guide exception: the fallback authenticates with LDAP and local (LDAP+LOCAL)"
REASON_CLIENT_CERT = "guide exception: the fallback does not require client certificates"
REASON_LICENCE = "guide exception: the fallback is deployed without licensing"
REASON_CERTIFICATE = "per-node identity: each node has its own TLS certificate and key"
REASON_IDENTITY = "per-node identity"
REASON_NOT_ALLOWED = "not among the guide's exceptions"


class Difference(BaseModel):
    """One setting that differs: where (dotted path), both values (None = absent), and the verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    primary: JsonValue
    fallback: JsonValue
    allowed: bool
    reason: str


class IdentityMap:
    """Turns a primary node identity into the fallback's: exact values (names, hostnames, addresses), an
    FQDN whose first label is a mapped hostname, comma-separated lists of those (certificate SANs)."""

    def __init__(self, identities: Mapping[str, str]) -> None:
        self.identities = dict(identities)

    def text(self, value: str) -> str:
        if value in self.identities:
            return self.identities[value]
        if ", " in value:
            return ", ".join(self.text(part) for part in value.split(", "))
        head, dot, rest = value.partition(".")
        if dot and head in self.identities and not _is_ip(value):
            return f"{self.identities[head]}.{rest}"
        return value

    def json(self, value: JsonValue) -> JsonValue:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _judge(
    section: str, field: str | None, primary: JsonValue, fallback: JsonValue, translated: JsonValue
) -> tuple[bool, str]:
    """Allowed or not, and why, for one differing value (``field`` None = a whole collection entry)."""
    if translated == fallback:
        return (
            True,
            f"{REASON_IDENTITY}: {primary!r} on the primary is {fallback!r} on the fallback"
            if field is not None
            else REASON_IDENTITY,
        )
    if section == "authentication" and field == "source":
        return (
            fallback == FALLBACK_SOURCE,
            REASON_SOURCE
            if fallback == FALLBACK_SOURCE
            else f"the fallback's authentication source must be {FALLBACK_SOURCE}",
        )
    if section == "authentication" and field == "client_certificate":
        ok = fallback == FALLBACK_CLIENT_CERTIFICATE
        return ok, REASON_CLIENT_CERT if ok else "the fallback must not require client certificates"
    if section == "licence":
        return (
            (True, REASON_LICENCE)
            if field is None and fallback is None
            else (False, "the fallback must hold no licence")
        )
    if section == CERTIFICATE_SECTION and field not in CERTIFICATE_PARITY_FIELDS:
        return True, REASON_CERTIFICATE
    if section in NODE_SECTIONS and field in NODE_CERTIFICATE_FIELDS:
        return True, REASON_CERTIFICATE
    return False, REASON_NOT_ALLOWED


def _compare(
    section: str, path: str, field: str | None, primary: JsonValue, fallback: JsonValue, translated: JsonValue
) -> Difference | None:
    if primary == fallback:
        return None
    allowed, reason = _judge(section, field, primary, fallback, translated)
    return Difference(path=path, primary=primary, fallback=fallback, allowed=allowed, reason=reason)


def _entry_diffs(
    section: str, prefix: str, primary: Entry, fallback: Entry, ids: IdentityMap | None
) -> list[Difference]:
    out: list[Difference] = []
    for field in sorted(primary.keys() | fallback.keys()):
        p, f = primary.get(field), fallback.get(field)
        t = ids.json(p) if ids else p
        if (d := _compare(section, f"{prefix}.{field}", field, p, f, t)) is not None:
            out.append(d)
    return out


def diff_exports(
    primary: ConfigurationExport, fallback: ConfigurationExport, identities: Mapping[str, str]
) -> list[Difference]:
    """Every difference between the two exports, sorted by path, each judged against the allowed set.

    ``identities`` maps each primary node identity (name, hostname, address) to the fallback's; in node
    and certificate sections, primary values (and collection keys) are read through it, so a fallback node
    carrying exactly its mapped identity differs only by allowed identity differences.
    """
    ids = IdentityMap(identities)
    out: list[Difference] = []
    for name in sorted(primary.singletons.keys() | fallback.singletons.keys()):
        out += _entry_diffs(name, name, primary.singletons.get(name, {}), fallback.singletons.get(name, {}), None)
    for section in sorted(primary.collections.keys() | fallback.collections.keys()):
        mapped = ids if section in NODE_SECTIONS or section == CERTIFICATE_SECTION else None
        p_entries = primary.collections.get(section, {})
        f_entries = dict(fallback.collections.get(section, {}))
        for key in sorted(p_entries):
            f_key = mapped.text(key) if mapped else key
            path = f"{section}[{key}]"
            if f_key in f_entries:
                out += _entry_diffs(section, path, p_entries[key], f_entries.pop(f_key), mapped)
            elif (d := _compare(section, path, None, p_entries[key], None, p_entries[key])) is not None:
                out.append(d)
        for f_key in sorted(f_entries):
            if (d := _compare(section, f"{section}[{f_key}]", None, None, f_entries[f_key], None)) is not None:
                out.append(d)
    return sorted(out, key=lambda d: d.path)


def contingency_identities(site: Site) -> dict[str, str]:
    """Primary identity → fallback identity from the site's ``contingency`` section: the Management Node
    with the fallback's, and the Conferencing Nodes with the fallback's in the order both lists give them
    (names, hostnames, addresses, FQDNs). Raises ValueError when the site has no fallback or the lists
    differ in length, or when one primary value would map to two fallback values."""
    if site.contingency is None:
        raise ValueError("the site has no contingency section")
    fallback_nodes = site.contingency.conferencing_nodes
    if len(fallback_nodes) != len(site.conferencing_nodes):
        raise ValueError(
            f"contingency.conferencing_nodes lists {len(fallback_nodes)} node(s), the site "
            f"{len(site.conferencing_nodes)}: each Conferencing Node needs its fallback"
        )
    pairs = [
        (site.management_node, site.contingency.management_node),
        *zip(site.conferencing_nodes, fallback_nodes, strict=True),
    ]
    out: dict[str, str] = {}
    for node, twin in pairs:
        for p, f in (
            (node.name, twin.name),
            (node.hostname, twin.hostname),
            (str(node.address), str(twin.address)),
            (node.fqdn, f"{twin.hostname}.{node.domain}"),
            *(
                [(str(node.ipv6_address.ip), str(twin.ipv6_address.ip))]
                if node.ipv6_address and twin.ipv6_address
                else []
            ),
        ):
            if out.setdefault(p, f) != f:
                raise ValueError(f"{p!r} would stand for both {out[p]!r} and {f!r} on the fallback")
    return out
