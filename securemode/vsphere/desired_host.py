"""What the ESXi host should look like, from the catalogue and the site.

Shared by the tasks that enforce it and the verifiers that check it, so the fix and the check come
from the same entry (design principle 1) and cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from securemode.catalogue.host import ADVANCED_OPTIONS, SERVICES
from securemode.results import JsonValue
from securemode.site import Site

LOCKDOWN_MODE = "lockdownNormal"
LOCKED_MODES = frozenset({"lockdownNormal", "lockdownStrict"})
NTP_SERVICE = "ntpd"
SITE_REF = "site:"

# Options that must be in place before another is turned on (STIG ESXI-80-000232, VMware known
# issues): enabling audit-record storage before its capacity and directory are set fills the ramdisk.
APPLY_AFTER: dict[str, tuple[str, ...]] = {
    "Syslog.global.auditRecord.storageEnable": (
        "Syslog.global.auditRecord.storageCapacity",
        "Syslog.global.logDir",
    ),
}

# vSwitch / port-group security policy field per STIG control.
SECURITY_FIELDS: dict[str, str] = {
    "host.stig.ESXI-80-000216": "forgedTransmits",
    "host.stig.ESXI-80-000217": "macChanges",
    "host.stig.ESXI-80-000218": "allowPromiscuous",
}


@dataclass(frozen=True)
class DesiredOption:
    """One advanced option: the control, the key, the value wanted, and what to say when the site sets none."""

    control: str
    key: str
    value: JsonValue
    unset: Literal["not_applicable", "fail"] | None = None  # None: the value is always known
    unset_reason: str = ""


def site_value(site: Site, ref: str) -> JsonValue:
    """The value of a dotted site path such as ``vsphere.login_banner``."""
    node: object = site
    for part in ref.split("."):
        node = getattr(node, part)
    if node is None or isinstance(node, str | int | float | bool):
        return node
    return str(node)


def _desired_option(site: Site, sid: str, key: str, value: JsonValue) -> DesiredOption:
    control = f"host.stig.{sid}"
    if not (isinstance(value, str) and value.startswith(SITE_REF)):
        return DesiredOption(control=control, key=key, value=value)
    ref = value.removeprefix(SITE_REF)
    resolved = site_value(site, ref)
    if ref == "vsphere.syslog_host" and not resolved:
        return DesiredOption(control=control, key=key, value=None, unset="not_applicable",
                             unset_reason="the site sets no remote syslog host for ESXi (vsphere.syslog_host)")
    if ref == "vsphere.login_banner" and not resolved:
        return DesiredOption(control=control, key=key, value=None, unset="fail",
                             unset_reason="the site sets no login banner (vsphere.login_banner); the STIG needs one")
    return DesiredOption(control=control, key=key, value=resolved)


def apply_order(options: list[DesiredOption]) -> list[DesiredOption]:
    """Catalogue order, except that an option never comes before those listed in :data:`APPLY_AFTER`."""
    ordered: list[DesiredOption] = []
    by_key = {o.key: o for o in options}
    placed: set[str] = set()

    def place(option: DesiredOption) -> None:
        if option.key in placed:
            return
        for before in APPLY_AFTER.get(option.key, ()):
            if before in by_key:
                place(by_key[before])
        placed.add(option.key)
        ordered.append(option)

    for option in options:
        place(option)
    return ordered


def desired_options(site: Site) -> list[DesiredOption]:
    """Every STIG advanced option with its wanted value, in the order they must be applied."""
    return apply_order([_desired_option(site, sid, key, value) for sid, _title, key, value in ADVANCED_OPTIONS])


def services_off() -> list[tuple[str, str]]:
    """(control, service key) of every service the STIG wants stopped with policy off."""
    return [(f"host.stig.{sid}", key) for sid, _title, key in SERVICES]


def ntp_servers(site: Site) -> list[str]:
    """The NTP servers ESXi should use: the site's NTP server addresses."""
    return [server.address for server in site.ntp_servers]


ROOT_ACCOUNT = "root"
ROOT_EXCEPTION_PROBLEM = (
    "root is a lockdown exception user: the most powerful account stays reachable over the API while lockdown is "
    "on. Fix: create a dedicated account with the least role the engine needs, name it as vsphere.username in "
    "the site file, and run `securemode run --stage host --approve host.lockdown` to make it the only exception")


def lockdown_exceptions(site: Site) -> list[str]:
    """Lockdown exception users: exactly the engine's own account, so it keeps API access (see
    securemode.tasks.host)."""
    return [site.vsphere.username]
