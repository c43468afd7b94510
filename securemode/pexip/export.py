"""A read-only export of a deployment's configuration through the Management API, normalised so that two
deployments (the primary and its contingency fallback) can be compared field by field.

What it covers: every configuration resource the pipeline's stages write, and the ones a secure-mode
deployment sets besides (reference §2):

* singletons ``global`` (global settings) and ``authentication`` (source, client certificate, LDAP);
* ``management_vm`` and ``worker_vm`` (node identities, SSH, SNMP, IPv6, SIP TLS FQDN, their certificates,
  DNS/NTP/syslog servers, static routes), ``system_location`` (DSCP, MTU, servers);
* ``dns_server``, ``ntp_server``, ``syslog_server``, ``snmp_network_management_system``, ``static_route``,
  ``http_proxy``, ``event_sink``;
* ``role`` (with its permissions by name) and ``ldap_role`` (the v16 LDAP group → role mapping);
* ``tls_certificate``, ``ca_certificate`` and ``licence``.

What it leaves out, and why:

* ``certificate_signing_request``: a step of issuing a node certificate, deleted by the node when the
  signed certificate is uploaded; the certificate it produced is exported.
* ``permission``: a fixed, read-only table of the software version; roles carry their permissions' names.
* ``role_mapping``: the v35+ successor of ``ldap_role``; a v16 node has none.
* The security wizard's settings (``security.json``): not part of the configuration API; reading them needs
  a diagnostic snapshot, which is itself an audited action, not a read.

Normalisation: ``id``/``resource_uri`` and server-maintained or derived fields are dropped; references
(URIs, or nested objects on read) become the referenced object's natural key (its name; the address of a
DNS/NTP server; ``transport://address:port`` of a syslog server; a certificate's subject name); lists of
references are sorted; collections are keyed by the natural key. A certificate's PEM becomes its SHA-256.
No secret is kept: fields named like a secret (password, passphrase, secret, key, token, community) are
replaced by :data:`SECRET_MARKER` when set — a well-known SNMP community ("public") is no secret and is kept,
so that it stays visible. Write-only fields are never returned by the API in the first place.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from securemode.pexip.client import CONFIG, ManagementApi, config_uri
from securemode.results import JsonValue
from securemode.site import WELL_KNOWN_COMMUNITIES

SINGLETONS: tuple[str, ...] = ("global", "authentication")
COLLECTIONS: tuple[str, ...] = (
    "management_vm",
    "worker_vm",
    "system_location",
    "dns_server",
    "ntp_server",
    "syslog_server",
    "snmp_network_management_system",
    "static_route",
    "http_proxy",
    "event_sink",
    "role",
    "ldap_role",
    "tls_certificate",
    "ca_certificate",
    "licence",
)
SECRET_MARKER = "<secret>"
"""Stands for a secret the API returned (set, not empty); its value is never kept."""

_SECRET_NAME = re.compile(r"password|passphrase|secret|token|community|(^|_)key$", re.IGNORECASE)
_COMMUNITY_NAME = re.compile(r"community", re.IGNORECASE)
_URI = re.compile(rf"^{re.escape(CONFIG)}(?P<resource>[a-z0-9_]+)/(?P<key>[^/]+)/$")
_CERTIFICATE_DERIVED = frozenset(
    {
        "text",
        "raw_subject",
        "raw_issuer",
        "subject_hash",
        "issuer_hash",
        "start_date",
        "end_date",
    }
)
_SERVER_FIELDS: dict[str, frozenset[str]] = {
    "global": frozenset({"deployment_uuid"}),
    "management_vm": frozenset({"initializing", "primary"}),
    "worker_vm": frozenset({"cloud_bursting", "managed", "service_manager", "service_policy", "signalling"}),
    "tls_certificate": _CERTIFICATE_DERIVED | {"nodes"},
    "ca_certificate": _CERTIFICATE_DERIVED,
    "licence": frozenset({"fulfillment_id", "start_date", "expiration_date"}),
}
_ALWAYS_DROPPED = frozenset({"id", "resource_uri"})
_PEM_FIELDS = frozenset({"certificate", "parameters"})  # of tls_certificate / ca_certificate

Entry = dict[str, JsonValue]


class ConfigurationExport(BaseModel):
    """One deployment's configuration as read at ``read_at`` from ``source`` (the API's base URL).

    ``singletons`` maps a singleton resource to its fields; ``collections`` maps a resource to its objects
    keyed by natural key. Neither holds a secret.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    read_at: datetime
    singletons: dict[str, Entry] = Field(default_factory=dict)
    collections: dict[str, dict[str, Entry]] = Field(default_factory=dict)

    def canonical_json(self) -> str:
        """The configuration alone (not where or when it was read), as sorted compact JSON."""
        return json.dumps(
            {"singletons": self.singletons, "collections": self.collections},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`canonical_json`: equal exactly when the configuration is unchanged."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def natural_key(resource: str, obj: Mapping[str, Any]) -> str:
    """What names an object of ``resource`` across deployments (its id does not)."""
    if resource in ("dns_server", "ntp_server"):
        return str(obj.get("address") or "")
    if resource == "syslog_server":
        return f"{obj.get('transport') or 'udp'}://{obj.get('address') or ''}:{obj.get('port') or 514}"
    if resource in ("tls_certificate", "ca_certificate"):
        return str(obj.get("subject_name") or "")
    if resource == "licence":
        return str(obj.get("entitlement_id") or obj.get("fulfillment_id") or "")
    return str(obj.get("name") or "")


def is_secret_field(name: str) -> bool:
    """True for a field whose value is a credential (``key_id`` is not; ``private_key`` is)."""
    return bool(_SECRET_NAME.search(name))


def _masked(name: str, value: Any) -> JsonValue:
    if value in (None, "", []):
        return value  # type: ignore[no-any-return]
    if _COMMUNITY_NAME.search(name) and value in WELL_KNOWN_COMMUNITIES:
        return str(value)
    return SECRET_MARKER


def _uri_path(value: str) -> str:
    return urlsplit(value).path if value.startswith("https://") else value


class _Reader:
    """Reads each resource once and resolves references to natural keys (unknown URIs read on demand)."""

    def __init__(self, api: ManagementApi) -> None:
        self.api = api
        self.raw: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[str, str] = {}  # URI path → natural key

    def read(self) -> None:
        for resource in COLLECTIONS:
            objects = list(self.api.iter_objects(resource))
            self.raw[resource] = objects
            for obj, key in zip(objects, unique_keys(resource, objects), strict=True):
                if isinstance(obj.get("resource_uri"), str):
                    self.keys[_uri_path(obj["resource_uri"])] = key

    def reference(self, value: Any) -> str | None:
        """The natural key a URI or nested object refers to; None when ``value`` is no reference."""
        if isinstance(value, dict) and isinstance(value.get("resource_uri"), str):
            path = _uri_path(value["resource_uri"])
            match = _URI.match(path)
            if match is None:
                return None
            return self.keys.get(path) or natural_key(match["resource"], value)
        if isinstance(value, str) and (match := _URI.match(_uri_path(value))):
            path = _uri_path(value)
            if path not in self.keys:
                self.keys[path] = natural_key(match["resource"], self.api.get(path))
            return self.keys[path]
        return None

    def normalise(self, resource: str, obj: Mapping[str, Any]) -> Entry:
        dropped = _ALWAYS_DROPPED | _SERVER_FIELDS.get(resource, frozenset())
        out: Entry = {}
        for name, value in obj.items():
            if name in dropped:
                continue
            if is_secret_field(name):
                out[name] = _masked(name, value)
            elif name in _PEM_FIELDS and resource in ("tls_certificate", "ca_certificate"):
                out[f"{name}_sha256"] = hashlib.sha256(str(value).encode()).hexdigest() if value else ""
            else:
                out[name] = self._value(value)
        return out

    def _value(self, value: Any) -> JsonValue:
        if isinstance(value, list):
            refs = [self.reference(v) for v in value]
            if value and all(r is not None for r in refs):
                return sorted(str(r) for r in refs)
            return [self._value(v) for v in value]
        ref = self.reference(value)
        if ref is not None:
            return ref
        if isinstance(value, dict):
            return self.normalise("", value)  # an embedded object: the same rules, secrets included
        return value  # type: ignore[no-any-return]


def unique_keys(resource: str, objects: list[dict[str, Any]]) -> list[str]:
    """Natural keys, made unique where objects share one: numbered oldest first (a certificate's
    ``start_date``, else the order the API lists them), so a node's default certificate and the one the
    PKI stage installed are numbered alike on two deployments."""
    keys = [natural_key(resource, o) for o in objects]
    out = list(keys)
    for key in {k for k in keys if keys.count(k) > 1}:
        shared = [i for i, k in enumerate(keys) if k == key]
        shared.sort(key=lambda i: (str(objects[i].get("start_date") or ""), i))
        for number, index in enumerate(shared, start=1):
            out[index] = f"{key} #{number}"
    return out


def export_configuration(api: ManagementApi) -> ConfigurationExport:
    """Read every exported resource through ``api`` (GETs only) and normalise it; any API error propagates,
    so an export is either complete or not made."""
    reader = _Reader(api)
    reader.read()
    singletons = {name: reader.normalise(name, api.get(config_uri(name, 1))) for name in SINGLETONS}
    collections: dict[str, dict[str, Entry]] = {}
    for resource in COLLECTIONS:
        objects = reader.raw[resource]
        collections[resource] = {
            key: reader.normalise(resource, obj)
            for obj, key in zip(objects, unique_keys(resource, objects), strict=True)
        }
    return ConfigurationExport(
        source=api.base_url, read_at=datetime.now(UTC), singletons=singletons, collections=collections
    )
