"""Probes of the ESXi host's STIG settings: advanced options, services, NTP, lockdown.

Each takes the control id, the target name, a :class:`HostReader` on the verifier's own session and
the expected value, and returns one Result with the observed value as evidence.
"""

from __future__ import annotations

from securemode.catalogue.host import SERVICE_OFF
from securemode.results import JsonValue, Result, probe
from securemode.verifiers.vsphere.reader import HostReader
from securemode.vsphere.desired_host import (
    LOCKED_MODES,
    NTP_SERVICE,
    ROOT_ACCOUNT,
    ROOT_EXCEPTION_PROBLEM,
    DesiredOption,
)
from securemode.vsphere.engine_role import ENGINE_ROLE, least_role_problems, observed_access
from securemode.vsphere.options import OptionKind

OFF = SERVICE_OFF  # the catalogue's one definition of "stopped and off"


def advanced_option(control: str, target: str, reader: HostReader, want: DesiredOption) -> Result:
    """The option has the wanted value, compared in the type the host declares for it."""
    with probe(control, target, expected={want.key: want.value}) as p:
        if want.unset == "not_applicable":
            p.not_applicable(want.unset_reason)
        else:
            p.log(f"QueryOptions {want.key}")
            state = reader.options.get(want.key)
            if state is None:
                p.failed(None, f"option {want.key} does not exist on the host")
            elif want.unset == "fail":
                p.failed({want.key: state.value}, want.unset_reason)
            else:
                p.log(f"{want.key} = {state.value!r} ({state.kind})")
                wanted = as_declared(state.kind, want.value)
                p.check(
                    same_option_value(state.kind, state.value, want.value),
                    {want.key: state.value},
                    f"{want.key} is {state.value!r}, not {wanted!r}",
                )
    return p.result


def as_declared(kind: OptionKind | None, value: JsonValue) -> JsonValue:
    """``value`` in the type the host declares for the option (the verifier's own conversion, kept apart
    from the task's on purpose: a wrong conversion in the fix must not hide in the check)."""
    if kind in ("long", "int") and isinstance(value, bool | int | str):
        return int(value)
    if kind == "bool" and isinstance(value, bool | int):
        return bool(value)
    if kind == "string" and value is not None:
        return str(value)
    return value


def same_option_value(kind: OptionKind | None, have: JsonValue, want: JsonValue) -> bool:
    """Whether the host's value is the wanted one, both in the declared type (``1 == True`` is not enough)."""
    have, want = as_declared(kind, have), as_declared(kind, want)
    return type(have) is type(want) and have == want


def service_off(control: str, target: str, reader: HostReader, key: str) -> Result:
    """The service is stopped and its start-up policy is off (an absent service cannot run)."""
    with probe(control, target, expected={key: OFF}) as p:
        svc = reader.services.get(key)
        if svc is None:
            p.passed({key: "not installed"}, f"service {key} is not installed on the host")
        else:
            seen = {"running": bool(svc.running), "policy": str(svc.policy)}
            p.log(f"service {key}: {seen}")
            p.check(seen == OFF, {key: seen}, f"service {key} is {seen}, not {OFF}")
    return p.result


def ntp(control: str, target: str, reader: HostReader, servers: list[str]) -> Result:
    """The host's NTP servers are the site's, and ntpd runs with policy on."""
    expected = {"servers": sorted(servers), NTP_SERVICE: {"running": True, "policy": "on"}}
    with probe(control, target, expected=expected) as p:
        have = sorted(reader.ntp_servers)
        svc = reader.services.get(NTP_SERVICE)
        daemon = {"running": bool(svc.running), "policy": str(svc.policy)} if svc else None
        seen = {"servers": have, NTP_SERVICE: daemon}
        p.log(f"ntpConfig.server = {have}; {NTP_SERVICE} = {daemon}")
        p.check(seen == expected, seen, "NTP servers or ntpd differ from the site")
    return p.result


def lockdown_exceptions(control: str, target: str, reader: HostReader, expected: list[str]) -> Result:
    """The exception users are exactly the expected accounts, and never ``root``.

    An exception user keeps direct API access while the host is locked down; ``root`` there keeps the
    most powerful account reachable, which is what lockdown is meant to stop."""
    with probe(control, target, expected=sorted(expected)) as p:
        have = sorted(reader.lockdown_exceptions)
        p.log(f"QueryLockdownExceptions -> {have}")
        if ROOT_ACCOUNT in have:
            p.failed(have, ROOT_EXCEPTION_PROBLEM)
        else:
            p.check(have == sorted(expected), have, f"lockdown exception users are {have}, not {sorted(expected)}")
    return p.result


def lockdown_mode(control: str, target: str, reader: HostReader) -> Result:
    """The host is in normal or strict lockdown mode."""
    with probe(control, target, expected=sorted(LOCKED_MODES)) as p:
        mode = reader.lockdown_mode
        p.log(f"config.lockdownMode = {mode}")
        p.check(mode in LOCKED_MODES, mode, f"lockdown mode is {mode}")
    return p.result


def engine_least_role(control: str, target: str, reader: HostReader) -> Result:
    """The engine account's permissions grant exactly the engine role: never Admin, no privilege beyond it.

    Read through the verifier's own session (RetrieveAllPermissions and the role list). Permissions given
    to groups the account may belong to are not resolved here: ESXi does not report local memberships."""
    with probe(control, target, expected=f"only role '{ENGINE_ROLE}' on the root folder") as p:
        access = reader.engine_access
        observed = observed_access(access)
        p.log(f"RetrieveAllPermissions for user '{access.account}' -> {observed}")
        problems = least_role_problems(access)
        p.check(not problems, observed, "; ".join(problems))
    return p.result
