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
from contextlib import ExitStack
from functools import partial
from typing import Any

from pydantic import SecretStr

from securemode.engine import Change, EngineContext, Planned, StepPlan, plan_of
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


def _attach(api: ManagementApi, target: str, obj: Any, field: str, wanted: Sequence[str],
            uri_of: Callable[[str], str | None]) -> None:
    """The URIs are looked up when the write runs: servers created earlier in the same plan have them then."""
    if obj is None:
        raise NotOnPlatform(f"location {target!r} is not on the Management Node")
    uris = [uri_of(label) for label in wanted]
    api.patch(obj.resource_uri, {field: [u for u in uris if u]})


def plan_attached(
    api: ManagementApi, points: list[tuple[str, Any]], control: str, field: str, wanted: Sequence[str],
    uri_of: Callable[[str], str | None], label_of: Callable[[str], str],
) -> list[Planned]:
    """Make ``field`` of every attach point exactly the servers labelled ``wanted``, in order."""
    planned: list[Planned] = []
    for target, obj in points:
        current = [label_of(uri) for uri in getattr(obj, field)] if obj is not None else None
        if current == list(wanted):
            continue
        planned.append(Planned(action=partial(_attach, api, target, obj, field, wanted, uri_of), changes=(
            Change(control=control, target=target, setting=field, current=current, desired=list(wanted)),)))
    return planned


def _created(control: str, label: str, setting: str, desired_value: Any) -> Change:
    return Change(control=control, target=label, setting=setting, current=None, desired=desired_value)


def _create_into(uris: dict[str, str], label: str, api: ManagementApi, resource: str, body: dict[str, Any]) -> None:
    uris[label] = api.create(resource, body)


def _labels(pairs: dict[str, str]) -> Callable[[str], str]:
    return lambda uri: pairs.get(uri, uri)


# DNS ----------------------------------------------------------------------------------------------------
def plan_dns(api: ManagementApi, objects: list[DnsServer], points: list[tuple[str, Any]],
             wanted: list[str]) -> list[Planned]:
    """Create the site's DNS servers that are missing, then attach exactly them."""
    uris = {o.address: o.resource_uri for o in objects}
    planned = [Planned(action=partial(_create_into, uris, address, api, "dns_server",
                                      DnsServerCreate(address=address).body()),
                       changes=(_created(DNS_CONTROL, address, "dns_server", address),))
               for address in wanted if address not in uris]
    label = _labels({o.resource_uri: o.address for o in objects})
    return planned + plan_attached(api, points, DNS_CONTROL, "dns_servers", wanted, uris.get, label)


def ensure_dns(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    objects = api.list_objects(DnsServer, "dns_server")
    return plan_of(*plan_dns(api, objects, attach_points(api, ctx.site), desired.dns_addresses(ctx.site.site)))


# NTP ----------------------------------------------------------------------------------------------------
def _ntp_ledger_key(api: ManagementApi, uri: str) -> str:
    return f"{api.base_url}{uri}#key"


def _write_ntp_server(api: ManagementApi, ledger: WriteOnlyLedger, uris: dict[str, str], have: NtpServer | None,
                      address: str, key_id: int | None, key: SecretStr | None) -> None:
    """Create or PATCH the server with its key id and key; record the key's digest in the ledger."""
    body = NtpServerWrite(address=address, key_id=key_id, key=key).body()
    uri = api.create("ntp_server", body) if have is None else have.resource_uri
    if have is not None:
        api.patch(uri, body)
    uris[address] = uri
    if key is not None:
        ledger.record(_ntp_ledger_key(api, uri), key.get_secret_value(), vouched_by=(NTP_AUTH_CONTROL, address))


def plan_ntp_server(write: Callable[[], object], have: NtpServer | None, address: str, key_id: int | None,
                    key_known: bool) -> Planned | None:
    """The write for one NTP server, or None when its key id is right and its key known to match."""
    if have is None:
        return Planned(action=write, changes=(_created(NTP_CONTROL, address, "ntp_server",
                                                       {"key_id": key_id, "key": "(set)"}),))
    if have.key_id == key_id and key_known:
        return None
    current = {"key_id": have.key_id, "key": "as recorded" if key_known else "not known to match the site"}
    return Planned(action=write, changes=(Change(control=NTP_CONTROL, target=address,
                                                 setting="ntp_server.key_id, key", current=current,
                                                 desired={"key_id": key_id, "key": "site key"}),))


def _ntp_key(loaded: LoadedSite, index: int, server: Any) -> SecretStr | None:
    """The server's key, refused before any change when it does not fit its algorithm."""
    key = loaded.secret(server.key) if server.key else None
    if key is not None and (problem := key_problem(key.get_secret_value(), server.algorithm)):
        raise InputError(str(loaded.path), [Problem(field=f"ntp_servers[{index}].key", message=problem,
                                                    fix=NTP_KEY_FIX)])
    return key


def ensure_ntp(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    site = ctx.site.site
    ledger = write_only_ledger(ctx.site)
    api = resources.enter_context(management_api(ctx.site))
    objects = api.list_objects(NtpServer, "ntp_server")
    by_address = {o.address: o for o in objects}
    uris = {o.address: o.resource_uri for o in objects if o.address in desired.ntp_addresses(site)}
    planned: list[Planned] = []
    for i, server in enumerate(site.ntp_servers):
        key = _ntp_key(ctx.site, i, server)
        have = by_address.get(server.address)
        key_known = key is None or (have is not None and ledger.matches(_ntp_ledger_key(api, have.resource_uri),
                                                                        key.get_secret_value()))
        write = partial(_write_ntp_server, api, ledger, uris, have, server.address, server.key_id, key)
        item = plan_ntp_server(write, have, server.address, server.key_id, key_known)
        if item is not None:
            planned.append(item)
    label = _labels({o.resource_uri: o.address for o in objects})
    planned += plan_attached(api, attach_points(api, ctx.site), NTP_CONTROL, "ntp_servers",
                             desired.ntp_addresses(site), uris.get, label)
    return plan_of(*planned)


# syslog -------------------------------------------------------------------------------------------------
def plan_syslog(api: ManagementApi, objects: list[SyslogServer], points: list[tuple[str, Any]],
                keys: list[tuple[str, int, str]]) -> list[Planned]:
    """Create the site's syslog servers or turn their audit log on, then attach exactly them."""
    by_key = {syslog_label(o.address, o.port, o.transport): o for o in objects}
    uris: dict[str, str] = {}
    planned: list[Planned] = []
    for address, port, transport in keys:
        lbl = syslog_label(address, port, transport)
        have = by_key.get(lbl)
        if have is None:
            body = SyslogServerCreate(address=address, port=port, transport=transport).body()
            planned.append(Planned(action=partial(_create_into, uris, lbl, api, "syslog_server", body),
                                   changes=(_created(SYSLOG_CONTROL, lbl, "syslog_server", {"audit_log": True}),)))
            continue
        uris[lbl] = have.resource_uri
        if not have.audit_log:
            planned.append(Planned(action=partial(api.patch, have.resource_uri, {"audit_log": True}), changes=(
                Change(control=SYSLOG_CONTROL, target=lbl, setting="syslog_server.audit_log", current=False,
                       desired=True),)))
    label = _labels({o.resource_uri: syslog_label(o.address, o.port, o.transport) for o in objects})
    wanted = [syslog_label(*k) for k in keys]
    return planned + plan_attached(api, points, SYSLOG_CONTROL, "syslog_servers", wanted, uris.get, label)


def ensure_syslog(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    api = resources.enter_context(management_api(ctx.site))
    objects = api.list_objects(SyslogServer, "syslog_server")
    return plan_of(*plan_syslog(api, objects, attach_points(api, ctx.site), desired.syslog_keys(ctx.site.site)))
