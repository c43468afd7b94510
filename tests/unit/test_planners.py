"""Planners from recorded facts, CPU only: plan(facts, desired) gives the expected Changes, an empty plan
when compliant, and — through the engine's applier — exactly the writes the plan names.

Facts are recorded values (pyVmomi data objects, Management API models); the client handles the actions
are bound to record the calls the applier makes, nothing else.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pyVmomi import vim

from securemode.catalogue.host import ADVANCED_OPTIONS
from securemode.engine import EngineContext, Planned, StepPlan, apply_plan, plan_of
from securemode.pexip import certificates as certs
from securemode.pexip import desired
from securemode.pexip.models import DnsServer, NodeVm, NtpServer, Permission, Role, SyslogServer, SystemLocation
from securemode.pexip.nodes import PlacedNode
from securemode.site_loader import LoadedSite, load_site
from securemode.tasks.bootstrap import plan_install, plan_opt_outs, plan_web_login
from securemode.tasks.host.lockdown import plan_lockdown
from securemode.tasks.host.ntp import plan_ntp
from securemode.tasks.host.options import plan_options
from securemode.tasks.host.services import plan_services_off
from securemode.tasks.pki.node_certificates import Issuer, NodeCertificate, plan_node_certificates
from securemode.tasks.pki.sip_tls import plan_sip_tls_fqdn
from securemode.tasks.platform.global_settings import GLOBAL_URI, plan_global
from securemode.tasks.platform.locations import plan_locations
from securemode.tasks.platform.roles import plan_roles
from securemode.tasks.platform.servers import plan_dns, plan_ntp_server, plan_syslog
from securemode.tasks.platform.snmp import PASSWORD_FIELDS, V3_CONTROL, plan_node_snmp
from securemode.vsphere.desired_host import APPLY_AFTER, DesiredOption, apply_order, desired_options, ntp_servers
from securemode.vsphere.options import OptionState, coerce, matches
from tests.unit.sites import EXAMPLE, set_secrets

TARGET = "esxi01"


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    return load_site(EXAMPLE)


class Calls:
    """A client handle that records every call made on it (the writes the applier issues)."""

    def __init__(self, base_url: str = "https://mgr.example") -> None:
        self.base_url = base_url
        self.made: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> str:
            self.made.append((name, args, kwargs))
            return f"/api/admin/configuration/v1/{args[0] if args else name}/{len(self.made)}/"

        return call


def _apply(loaded: LoadedSite, *planned: Planned) -> list[Any]:
    return apply_plan(plan_of(*planned), EngineContext(site=loaded, apply=True))


def _rows(plan: StepPlan | list[Planned]) -> list[tuple[str, str, Any, Any]]:
    changes = plan.changes if isinstance(plan, StepPlan) else [c for p in plan for c in p.changes]
    return [(c.control, c.setting, c.current, c.desired) for c in changes]


# apply_order, coerce, matches ---------------------------------------------------------------------------
def test_apply_order_puts_prerequisites_first_and_keeps_catalogue_order_otherwise() -> None:
    enable, capacity, log_dir = (
        "Syslog.global.auditRecord.storageEnable",
        *APPLY_AFTER["Syslog.global.auditRecord.storageEnable"],
    )
    options = [
        DesiredOption("a", enable, True),
        DesiredOption("b", "UserVars.X", 1),
        DesiredOption("c", capacity, 100),
        DesiredOption("d", log_dir, "[] /scratch/log"),
    ]
    assert [o.key for o in apply_order(options)] == [capacity, log_dir, enable, "UserVars.X"]
    assert [o.key for o in apply_order(options[1:2])] == ["UserVars.X"]  # nothing to reorder


def test_desired_options_of_the_site_enable_audit_storage_after_its_prerequisites(loaded: LoadedSite) -> None:
    keys = [o.key for o in desired_options(loaded.site)]
    assert sorted(keys) == sorted(key for _sid, _title, key, _value in ADVANCED_OPTIONS)
    enable = keys.index("Syslog.global.auditRecord.storageEnable")
    assert all(keys.index(before) < enable for before in APPLY_AFTER["Syslog.global.auditRecord.storageEnable"])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("long", "900", 900),
        ("int", True, 1),
        ("bool", 0, False),
        ("string", 5, "5"),
        ("string", None, None),
        (None, "x", "x"),
        ("bool", "true", "true"),
    ],
)
def test_coerce_gives_the_declared_kind(kind: Any, value: Any, expected: Any) -> None:
    result = coerce(kind, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("state", "wanted", "same"),
    [
        (OptionState("Security.AccountLockFailures", "3", "long"), 3, True),
        (OptionState("Security.AccountLockFailures", 5, "long"), 3, False),
        (OptionState("Mem.ShareForceSalting", 2, "int"), "2", True),
        (OptionState("Net.BlockGuestBPDU", 1, "bool"), True, True),
        (OptionState("Config.HostAgent.plugins.solo.enableMob", "false", "bool"), False, False),  # never guessed
        (OptionState("Annotations.WelcomeMessage", None, "string"), "", False),
        (OptionState("Untyped", 1, None), "1", False),
    ],
)
def test_matches_compares_once_both_sides_have_the_options_type(state: OptionState, wanted: Any, same: bool) -> None:
    assert matches(state, wanted) is same


# host -------------------------------------------------------------------------------------------------------
def _option_facts(wanted: list[DesiredOption]) -> dict[str, OptionState]:
    kinds = {bool: "bool", int: "long", str: "string"}
    return {w.key: OptionState(w.key, w.value,
    kinds.get(type(w.value))) for w in wanted if w.unset is None}  # type: ignore[misc]


def test_host_options_plan_only_what_differs_in_apply_order(loaded: LoadedSite) -> None:
    wanted = desired_options(loaded.site)
    facts = _option_facts(wanted)
    planned, notes = plan_options(Calls(), TARGET, wanted, facts)
    assert planned == [] and notes == []
    facts["Security.AccountLockFailures"] = OptionState("Security.AccountLockFailures", 10, "long")
    facts["Syslog.global.auditRecord.storageEnable"] = OptionState(
        "Syslog.global.auditRecord.storageEnable", False, "bool"
    )
    del facts["Syslog.global.auditRecord.storageCapacity"]
    planned, notes = plan_options(Calls(), TARGET, wanted, facts)
    assert [(key, have, want) for _c, key, have, want in _rows(planned)] == [  # in apply order
        ("Security.AccountLockFailures", 10, 3),
        ("Syslog.global.auditRecord.storageEnable", False, True),
    ]
    assert notes == [
        f"host.stig.ESXI-80-000113: option Syslog.global.auditRecord.storageCapacity does not exist "
        f"on {TARGET}; it cannot be set"
    ]


def test_services_plan_policy_off_before_stopping_and_nothing_when_off() -> None:
    system = Calls()
    host = SimpleNamespace(configManager=SimpleNamespace(serviceSystem=system))
    off = {
        key: vim.host.Service(key=key, policy="off", running=False)
        for key in ("TSM-SSH", "TSM", "sfcbd-watchdog", "slpd")
    }
    assert plan_services_off(host, TARGET, off) == []
    facts = {**off, "TSM-SSH": vim.host.Service(key="TSM-SSH", policy="on", running=True)}
    planned = plan_services_off(host, TARGET, facts)
    assert _rows(planned) == [
        ("host.stig.ESXI-80-000193", "TSM-SSH.policy", "on", "off"),
        ("host.stig.ESXI-80-000193", "TSM-SSH.running", True, False),
    ]
    for item in planned:
        item.action()
    assert [(name, kwargs) for name, _args, kwargs in system.made] == [
        ("UpdateServicePolicy", {"id": "TSM-SSH", "policy": "off"}),
        ("StopService", {"id": "TSM-SSH"}),
    ]


def test_host_ntp_plan_sets_servers_then_restarts_ntpd(loaded: LoadedSite) -> None:
    system, clock = Calls(), Calls()
    host = SimpleNamespace(configManager=SimpleNamespace(serviceSystem=system, dateTimeSystem=clock))
    servers = ntp_servers(loaded.site)
    running = {"ntpd": vim.host.Service(key="ntpd", policy="on", running=True)}
    assert plan_ntp(host, TARGET, servers, list(reversed(servers)), running) == []  # order does not matter
    planned = plan_ntp(host, TARGET, servers, ["pool.ntp.org"], running)
    assert _rows(planned) == [("host.stig.ESXI-80-000124", "ntpConfig.server", ["pool.ntp.org"], servers)]
    assert len(planned) == 2 and planned[1].changes == ()  # the restart that picks the servers up
    stopped = {"ntpd": vim.host.Service(key="ntpd", policy="off", running=False)}
    assert [s for _c, s, _h, _w in _rows(plan_ntp(host, TARGET, servers, servers, stopped))] == [
        "ntpd.policy",
        "ntpd.running",
    ]


def test_lockdown_plan_is_empty_when_locked_and_blocked_while_its_precondition_fails() -> None:
    assert plan_lockdown(Calls(), TARGET, "lockdownStrict", None).planned == ()
    blocked = plan_lockdown(Calls(), TARGET, "lockdownDisabled", "the engine logs in as root")
    assert _rows(blocked) == [("host.stig.ESXI-80-000008", "lockdownMode", "lockdownDisabled", "lockdownNormal")]
    assert blocked.blocked == "host.lockdown: precondition not met: the engine logs in as root"
    assert plan_lockdown(Calls(), TARGET, "lockdownDisabled", None).blocked is None


# platform -----------------------------------------------------------------------------------------------
def test_global_settings_one_patch_of_what_differs_reported_per_control(loaded: LoadedSite) -> None:
    wanted = desired.global_settings(loaded.site)
    compliant = {k: v for fields in wanted.values() for k, v in fields.items()}
    assert plan_global(Calls(), compliant, wanted) == []
    api = Calls()
    drifted = {**compliant, "enable_chat": True, "enable_dialout": True}
    planned = plan_global(api, drifted, wanted)
    assert _rows(planned) == [
        ("platform.global.chat", "global.enable_chat", {"enable_chat": True}, {"enable_chat": False}),
        (
            "platform.global.outbound-calls",
            "global.enable_dialout",
            {"enable_dialout": True},
            {"enable_dialout": False},
        ),
    ]
    assert all(c.applied for c in _apply(loaded, *planned))
    assert api.made == [("patch", (GLOBAL_URI, {"enable_chat": False, "enable_dialout": False}), {})]


def _node(loaded: LoadedSite, **fields: Any) -> PlacedNode:
    node = loaded.site.management_node
    vm = NodeVm(
        id=1,
        resource_uri="/api/admin/configuration/v1/management_vm/1/",
        name=node.name,
        address=str(node.address),
        **fields,
    )
    return PlacedNode(node, vm, "management_vm")


def test_snmp_plan_names_communities_never_prints_them_and_writes_passwords_with_a_mode_change(
    loaded: LoadedSite,
) -> None:
    community = "k7-not-public"
    wanted = desired.snmp_fields(loaded.site, community)
    secrets = dict.fromkeys(PASSWORD_FIELDS, "pw")
    compliant = _node(loaded, **wanted["platform.snmp.v3"], snmp_community=community)
    writes: list[dict[str, Any]] = []
    assert plan_node_snmp(compliant, wanted, True, community, secrets, writes.append) is None
    unknown = plan_node_snmp(compliant, wanted, False, community, secrets, writes.append)
    assert unknown is not None and _rows([unknown]) == [
        (V3_CONTROL, ", ".join(PASSWORD_FIELDS), "not known to match the site", "site credentials (write-only)")
    ]
    fresh = _node(loaded)  # snmp_mode DISABLED, community public
    planned = plan_node_snmp(fresh, wanted, True, community, secrets, writes.append)
    assert planned is not None
    rows = _rows([planned])
    assert rows[1] == (
        "platform.snmp.v2c-refused",
        "snmp_community",
        {"snmp_community": "public"},
        {"snmp_community": "the site's community"},
    )
    assert rows[2][2] == "as recorded"  # the passwords go with the mode change even when known
    assert community not in repr(rows) and "pw" not in repr(rows)
    planned.action()
    assert writes[-1]["snmp_mode"] == "AUTHPRIV" and writes[-1]["snmp_community"] == community
    assert all(writes[-1][f] == "pw" for f in PASSWORD_FIELDS)


def test_dns_plan_creates_missing_servers_then_attaches_them_by_their_new_uris(loaded: LoadedSite) -> None:
    wanted = ["10.0.0.53", "10.0.0.54"]
    present = [DnsServer(id=1, resource_uri="/dns/1/", address="10.0.0.53")]
    location = SystemLocation(id=2, resource_uri="/loc/2/", name="dc1", dns_servers=["/dns/1/"])
    api = Calls()
    planned = plan_dns(api, present, [("dc1", location)], wanted)
    assert _rows(planned) == [
        ("platform.dns.servers", "dns_server", None, "10.0.0.54"),
        ("platform.dns.servers", "dns_servers", ["10.0.0.53"], wanted),
    ]
    _apply(loaded, *planned)
    created = api.made[0]
    assert created[0] == "create" and created[1][0] == "dns_server"
    assert api.made[1] == (
        "patch",
        ("/loc/2/", {"dns_servers": ["/dns/1/", "/api/admin/configuration/v1/dns_server/1/"]}),
        {},
    )
    attached = SystemLocation(id=2, resource_uri="/loc/2/", name="dc1", dns_servers=["/dns/1/", "/dns/3/"])
    everything = [*present, DnsServer(id=3, resource_uri="/dns/3/", address="10.0.0.54")]
    assert plan_dns(Calls(), everything, [("dc1", attached)], wanted) == []


def test_syslog_plan_turns_the_audit_log_on_and_keeps_the_site_order() -> None:
    keys = [("10.0.0.9", 6514, "tls")]
    off = SyslogServer(id=4, resource_uri="/syslog/4/", address="10.0.0.9", port=6514, transport="tls")
    mgr = SimpleNamespace(syslog_servers=["/syslog/4/"], resource_uri="/mgr/1/")
    assert _rows(plan_syslog(Calls(), [off], [("mgr01", mgr)], keys)) == [
        ("platform.syslog.servers", "syslog_server.audit_log", False, True)
    ]
    on = off.model_copy(update={"audit_log": True})
    assert plan_syslog(Calls(), [on], [("mgr01", mgr)], keys) == []


def test_ntp_server_plan_rewrites_a_key_the_ledger_does_not_know() -> None:
    have = NtpServer(id=5, resource_uri="/ntp/5/", address="10.0.0.123", key_id=1)
    assert plan_ntp_server(lambda: None, have, "10.0.0.123", 1, key_known=True) is None
    stale = plan_ntp_server(lambda: None, have, "10.0.0.123", 1, key_known=False)
    assert stale is not None and _rows([stale]) == [
        (
            "platform.ntp.servers",
            "ntp_server.key_id, key",
            {"key_id": 1, "key": "not known to match the site"},
            {"key_id": 1, "key": "site key"},
        )
    ]
    missing = plan_ntp_server(lambda: None, None, "10.0.0.123", 1, key_known=False)
    assert missing is not None and _rows([missing])[0][2] is None


def test_roles_plan_trims_built_in_roles_and_builds_the_auditor() -> None:
    removed = desired.removed_permissions()
    perms = {
        name: Permission(id=i, resource_uri=f"/perm/{i}/", name=name)
        for i, name in enumerate(sorted(set(removed) | set(desired.auditor_permissions()) | {"May log in"}))
    }
    trimmed = {
        name: Role(id=10 + i, resource_uri=f"/role/{10 + i}/", name=name, permissions=[perms["May log in"]])
        for i, name in enumerate(desired.ROLES_TRIMMED)
    }
    auditor = Role(
        id=20,
        resource_uri="/role/20/",
        name=desired.AUDITOR,
        permissions=[perms[p] for p in desired.auditor_permissions()],
    )
    assert plan_roles(Calls(), {**trimmed, desired.AUDITOR: auditor}, perms) == []
    loose = {
        **trimmed,
        "Read-only": trimmed["Read-only"].model_copy(update={"permissions": [perms["May log in"], perms[removed[0]]]}),
    }
    rows = _rows(plan_roles(Calls(), loose, perms))
    assert rows[0] == (
        desired.role_removal_control("Read-only", removed[0]),
        "role[Read-only].permissions",
        f"has '{removed[0]}'",
        f"no '{removed[0]}'",
    )
    assert rows[-1][:3] == ("platform.role.auditor", "role[Auditor].permissions", None)


def test_locations_plan_creates_a_missing_location_and_patches_drift(loaded: LoadedSite) -> None:
    site_locations = loaded.site.locations
    assert _rows(plan_locations(Calls(), {}, site_locations))[0][2] is None  # not there: created
    present = {
        loc.name: SystemLocation(
            id=i,
            resource_uri=f"/loc/{i}/",
            name=loc.name,
            mtu=loc.mtu,
            media_qos=loc.media_dscp,
            signalling_qos=loc.signalling_dscp,
        )
        for i, loc in enumerate(site_locations)
    }
    assert plan_locations(Calls(), present, site_locations) == []
    first = site_locations[0]
    drifted = {**present, first.name: present[first.name].model_copy(update={"mtu": 1500})}
    api = Calls()
    planned = plan_locations(api, drifted, site_locations)
    assert [(s, h, w) for _c, s, h, w in _rows(planned)] == [("system_location.mtu", {"mtu": 1500}, {"mtu": first.mtu})]
    _apply(loaded, *planned)
    assert api.made == [("patch", ("/loc/0/", {"mtu": first.mtu}), {})]


# pki ----------------------------------------------------------------------------------------------------
def test_certificate_plan_skips_good_nodes_and_names_the_first_broken_control(loaded: LoadedSite) -> None:
    pki = loaded.site.pki
    good = certs.Assessment((), "CN=mgr01", "2030-01-01", ())
    bad = certs.Assessment((certs.CertProblem(certs.NAMES, "does not cover mgr01.example.com"),), "CN=x", "", ())
    issuer = Issuer(Calls(), loaded, None)  # type: ignore[arg-type]
    node = _node(loaded)
    assert plan_node_certificates([NodeCertificate(node, good)], pki, issuer) == []
    rows = _rows(plan_node_certificates([NodeCertificate(node, bad), NodeCertificate(node, None)], pki, issuer))
    assert [(control, current) for control, _s, current, _w in rows] == [
        (certs.NAMES, bad.summary()),
        (certs.TRUSTED, "node not on the Management Node"),
    ]


def test_sip_tls_plan_only_for_conferencing_nodes_that_differ(loaded: LoadedSite) -> None:
    conf = [n for n in loaded.site.conferencing_nodes if n.sip_tls_fqdn]
    placed = [
        PlacedNode(
            n, NodeVm(id=i, resource_uri=f"/w/{i}/", name=n.name, alternative_fqdn=n.sip_tls_fqdn or ""), "worker_vm"
        )
        for i, n in enumerate(conf)
    ]
    assert len(placed) == 2 and plan_sip_tls_fqdn(Calls(), [_node(loaded), *placed]) == []
    blank = [PlacedNode(conf[0], None, "worker_vm")]
    assert _rows(plan_sip_tls_fqdn(Calls(), blank)) == [
        ("pki.sip-tls-fqdn", "alternative_fqdn", None, conf[0].sip_tls_fqdn)
    ]


# bootstrap ----------------------------------------------------------------------------------------------
def test_install_plan_is_empty_on_an_installed_node_and_blocked_without_a_pinned_key(loaded: LoadedSite) -> None:
    from securemode.console.client import ConsoleStatus

    assert plan_install(loaded, ConsoleStatus.INSTALLED, web_up=False).planned == ()
    assert plan_install(loaded, None, web_up=True).planned == ()  # the web answers: installed
    unknown = plan_install(loaded, None, web_up=False)
    assert unknown.blocked == "installation wizard: the console host key is not pinned"
    assert all(not c.current_known for c in unknown.changes)
    fresh = plan_install(loaded, ConsoleStatus.PASSWORD_NOT_SET, web_up=False)
    assert fresh.blocked is None and fresh.changes[0].setting == "console.admin_password"


def test_opt_outs_and_web_login_plans(loaded: LoadedSite) -> None:
    assert plan_opt_outs(Calls(), "mgr01", {"error_reporting_enabled": False, "enable_analytics": False}) == []
    api = Calls()
    planned = plan_opt_outs(api, "mgr01", {"error_reporting_enabled": True, "enable_analytics": False})
    assert _rows(planned) == [("bootstrap.install.incident-reporting", "global.error_reporting_enabled", True, False)]
    assert plan_web_login(True, "ok").planned == ()
    failed = plan_web_login(False, "401")
    assert failed.changes == []  # nothing to change: a run stops here instead
    with pytest.raises(Exception, match="web login with the configured credentials failed: 401"):
        apply_plan(failed, EngineContext(site=loaded, apply=True))
    apply_plan(failed, EngineContext(site=loaded, apply=False))  # a plan does not stop
