"""DNS, NTP and syslog servers (guide: Securing network services): the site's servers exist on the
platform and are exactly the lists attached to the Management Node and to every location.

NTP keys are write-only on the API. Whether a server already has the site's key is decided by the
write-only ledger (:mod:`securemode.pexip.ledger`): the key is written when the server is created,
when its ``key_id`` differs, or when the ledger holds no digest of the site's key for that object;
afterwards the digest is recorded. So a second run changes nothing, and a changed key in the site
file is written on the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import SecretStr

from securemode.engine import Change, EngineContext
from securemode.ntp_key_format import FIX as NTP_KEY_FIX
from securemode.ntp_key_format import key_problem
from securemode.pexip import desired
from securemode.pexip.client import ManagementApi
from securemode.pexip.connect import management_api, write_only_ledger
from securemode.pexip.ledger import WriteOnlyLedger
from securemode.pexip.models import (
    DnsServer,
    DnsServerCreate,
    NtpServer,
    NtpServerWrite,
    SyslogServer,
    SyslogServerCreate,
)
from securemode.pexip.nodes import NotOnPlatform, locations_by_name, management_vm
from securemode.problems import InputError, Problem
from securemode.site_loader import LoadedSite

DNS_CONTROL = "platform.dns.servers"
NTP_CONTROL = "platform.ntp.servers"
NTP_AUTH_CONTROL = "platform.ntp.authenticated"  # the behaviour that vouches for a written NTP key
SYSLOG_CONTROL = "platform.syslog.servers"


def syslog_label(address: str, port: int, transport: str) -> str:
    return f"{address}:{port}/{transport}"


# attaching ----------------------------------------------------------------------------------------------
def attach_points(api: ManagementApi, loaded: LoadedSite) -> list[tuple[str, Any]]:
    """(target name, API object or None) for the Management Node and every site location."""
    site = loaded.site
    locations = locations_by_name(api)
    return [(site.management_node.name, management_vm(api, site))] + [
        (loc.name, locations.get(loc.name)) for loc in site.locations
    ]


def ensure_attached(
    api: ManagementApi, ctx: EngineContext, control: str, field: str, wanted: Sequence[str],
    uri_of: Callable[[str], str | None], label_of: Callable[[str], str],
) -> list[Change]:
    """Make ``field`` of every attach point exactly the servers labelled ``wanted``, in order."""
    changes: list[Change] = []
    for target, obj in attach_points(api, ctx.site):
        current = [label_of(uri) for uri in getattr(obj, field)] if obj is not None else None
        if current == list(wanted):
            continue
        if ctx.apply:
            if obj is None:
                raise NotOnPlatform(f"location {target!r} is not on the Management Node")
            uris = [uri_of(label) for label in wanted]
            api.patch(obj.resource_uri, {field: [u for u in uris if u]})
        changes.append(Change(control=control, target=target, setting=field, current=current, desired=list(wanted),
                              applied=ctx.apply))
    return changes


def _created(ctx: EngineContext, control: str, label: str, setting: str, desired_value: Any) -> Change:
    return Change(control=control, target=label, setting=setting, current=None, desired=desired_value,
                  applied=ctx.apply)


# DNS ----------------------------------------------------------------------------------------------------
def ensure_dns(ctx: EngineContext) -> list[Change]:
    wanted = desired.dns_addresses(ctx.site.site)
    with management_api(ctx.site) as api:
        objects = api.list_objects(DnsServer, "dns_server")
        by_address = {o.address: o.resource_uri for o in objects}
        changes: list[Change] = []
        for address in wanted:
            if address in by_address:
                continue
            if ctx.apply:
                by_address[address] = api.create("dns_server", DnsServerCreate(address=address).body())
            changes.append(_created(ctx, DNS_CONTROL, address, "dns_server", address))
        label = {o.resource_uri: o.address for o in objects} | {u: a for a, u in by_address.items()}
        changes += ensure_attached(api, ctx, DNS_CONTROL, "dns_servers", wanted, by_address.get,
                                   lambda uri: label.get(uri, uri))
    return changes


# NTP ----------------------------------------------------------------------------------------------------
def _ntp_ledger_key(api: ManagementApi, uri: str) -> str:
    return f"{api.base_url}{uri}#key"


def _ensure_ntp_server(
    api: ManagementApi, ctx: EngineContext, ledger: WriteOnlyLedger, have: NtpServer | None,
    address: str, key_id: int | None, key: SecretStr | None,
) -> tuple[str | None, Change | None]:
    """(URI, change) for one NTP server object with the site's key id and key."""
    if have is None:
        uri = None
        if ctx.apply:
            uri = api.create("ntp_server", NtpServerWrite(address=address, key_id=key_id, key=key).body())
            if key is not None:
                ledger.record(_ntp_ledger_key(api, uri), key.get_secret_value(), vouched_by=(NTP_AUTH_CONTROL, address))
        return uri, _created(ctx, NTP_CONTROL, address, "ntp_server", {"key_id": key_id, "key": "(set)"})
    key_known = key is None or ledger.matches(_ntp_ledger_key(api, have.resource_uri), key.get_secret_value())
    if have.key_id == key_id and key_known:
        return have.resource_uri, None
    if ctx.apply:
        api.patch(have.resource_uri, NtpServerWrite(address=address, key_id=key_id, key=key).body())
        if key is not None:
            ledger.record(_ntp_ledger_key(api, have.resource_uri), key.get_secret_value(),
                          vouched_by=(NTP_AUTH_CONTROL, address))
    current = {"key_id": have.key_id, "key": "as recorded" if key_known else "not known to match the site"}
    return have.resource_uri, Change(control=NTP_CONTROL, target=address, setting="ntp_server.key_id, key",
                                     current=current, desired={"key_id": key_id, "key": "site key"},
                                     applied=ctx.apply)


def ensure_ntp(ctx: EngineContext) -> list[Change]:
    site = ctx.site.site
    ledger = write_only_ledger(ctx.site)
    with management_api(ctx.site) as api:
        objects = api.list_objects(NtpServer, "ntp_server")
        by_address = {o.address: o for o in objects}
        uris: dict[str, str] = {}
        changes: list[Change] = []
        for i, server in enumerate(site.ntp_servers):
            key = ctx.site.secret(server.key) if server.key else None
            if key is not None and (problem := key_problem(key.get_secret_value(), server.algorithm)):
                raise InputError(str(ctx.site.path), [Problem(field=f"ntp_servers[{i}].key", message=problem,
                                                              fix=NTP_KEY_FIX)])
            uri, change = _ensure_ntp_server(api, ctx, ledger, by_address.get(server.address), server.address,
                                             server.key_id, key)
            if uri:
                uris[server.address] = uri
            if change:
                changes.append(change)
        label = {o.resource_uri: o.address for o in objects} | {u: a for a, u in uris.items()}
        changes += ensure_attached(api, ctx, NTP_CONTROL, "ntp_servers", desired.ntp_addresses(site), uris.get,
                                   lambda uri: label.get(uri, uri))
    return changes


# syslog -------------------------------------------------------------------------------------------------
def ensure_syslog(ctx: EngineContext) -> list[Change]:
    site = ctx.site.site
    with management_api(ctx.site) as api:
        objects = api.list_objects(SyslogServer, "syslog_server")
        by_key = {syslog_label(o.address, o.port, o.transport): o for o in objects}
        uris: dict[str, str] = {}
        changes: list[Change] = []
        for address, port, transport in desired.syslog_keys(site):
            lbl = syslog_label(address, port, transport)
            have = by_key.get(lbl)
            if have is None:
                if ctx.apply:
                    uris[lbl] = api.create("syslog_server", SyslogServerCreate(
                        address=address, port=port, transport=transport).body())
                changes.append(_created(ctx, SYSLOG_CONTROL, lbl, "syslog_server", {"audit_log": True}))
                continue
            uris[lbl] = have.resource_uri
            if not have.audit_log:
                if ctx.apply:
                    api.patch(have.resource_uri, {"audit_log": True})
                changes.append(Change(control=SYSLOG_CONTROL, target=lbl, setting="syslog_server.audit_log",
                                      current=False, desired=True, applied=ctx.apply))
        label = {o.resource_uri: syslog_label(o.address, o.port, o.transport) for o in objects}
        label |= {u: lbl for lbl, u in uris.items()}
        wanted = [syslog_label(*k) for k in desired.syslog_keys(site)]
        changes += ensure_attached(api, ctx, SYSLOG_CONTROL, "syslog_servers", wanted, uris.get,
                                   lambda uri: label.get(uri, uri))
    return changes
