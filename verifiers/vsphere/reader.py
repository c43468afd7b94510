"""A verifier's own read-only vSphere session, and a reader that fetches each part of the host once.

Verifiers never reuse the engine's sessions (design principle 3): :func:`readonly_session` logs in
afresh with the connection parameters it is given, and everything is read through it. Each read
is cached for the one verification pass, and a read that fails raises inside the probe that needed
it, so only that control becomes ERROR.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from securemode.redact import register_secret
from securemode.vsphere.desired_vm import VmView, core_mhz, view_vm, view_vms
from securemode.vsphere.engine_role import EngineAccess, read_engine_access
from securemode.vsphere.host_state import (
    NetworkState,
    read_lockdown_mode,
    read_network,
    read_ntp_servers,
    read_services,
)
from securemode.vsphere.inventory import find_vm
from securemode.vsphere.options import OptionState, read_options
from securemode.vsphere.session import Endpoint, VSphereSession, open_session
from securemode.vsphere.trust import ca_context, pinned_context


@dataclass(frozen=True)
class VSphereConnection:
    """Connection parameters of a vSphere probe; exactly one of ``fingerprint_sha256`` and ``ca_file``."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    fingerprint_sha256: str | None = None
    ca_file: str | None = None
    esxi_host: str | None = None

    def endpoint(self) -> Endpoint:
        register_secret(self.password)
        context: ssl.SSLContext
        if self.fingerprint_sha256:
            context = pinned_context(self.fingerprint_sha256)
        elif self.ca_file:
            context = ca_context(Path(self.ca_file))
        else:
            raise ValueError("a vSphere probe needs a pinned fingerprint or a CA file")
        return Endpoint(host=self.host, port=self.port, username=self.username, password=SecretStr(self.password),
                        context=context, esxi_host=self.esxi_host)


class HostReader:
    """Reads of one host through one verifier session, each fetched once per pass."""

    def __init__(self, session: VSphereSession, option_keys: list[str]) -> None:
        self.session = session
        self._option_keys = option_keys
        self._vms: dict[str, VmView | None] = {}

    @cached_property
    def host(self) -> Any:
        return self.session.host()

    @cached_property
    def options(self) -> dict[str, OptionState]:
        return read_options(self.host, self._option_keys)

    @cached_property
    def services(self) -> dict[str, Any]:
        return read_services(self.host)

    @cached_property
    def network(self) -> NetworkState:
        return read_network(self.host)

    @cached_property
    def ntp_servers(self) -> list[str]:
        return read_ntp_servers(self.host)

    @cached_property
    def lockdown_mode(self) -> str:
        return read_lockdown_mode(self.host)

    @cached_property
    def lockdown_exceptions(self) -> list[str]:
        return list(self.host.configManager.hostAccessManager.QueryLockdownExceptions() or [])

    @cached_property
    def engine_access(self) -> EngineAccess:
        """The permissions of the account this session logs in as (the site's engine account)."""
        return read_engine_access(self.session.content, self.session.endpoint.username)

    @cached_property
    def host_vms(self) -> list[VmView]:
        return view_vms(list(self.host.vm))

    @cached_property
    def core_mhz(self) -> int:
        return core_mhz(self.host)

    def vm(self, name: str) -> VmView | None:
        """The VM of that name: from the host's VMs (read once for the pass, and every stage that asks for
        one VM asks for the rest, or for the host's IOPS sum), else found in the whole inventory."""
        if name not in self._vms:
            on_host = next((v for v in self.host_vms if v.name == name), None)
            found = None if on_host is not None else find_vm(self.session.content, name)
            self._vms[name] = on_host or (view_vm(found) if found is not None else None)
        return self._vms[name]

    def vm_now(self, name: str) -> VmView | None:
        """The VM of that name read at this moment, never from the pass's snapshot (a power state that the
        same probe then confirms on the network)."""
        found = find_vm(self.session.content, name)
        return view_vm(found) if found is not None else None


@contextmanager
def readonly_session(conn: VSphereConnection, option_keys: list[str]) -> Iterator[HostReader]:
    """A fresh login for one verification pass; logged out afterwards."""
    with open_session(conn.endpoint()) as session:
        yield HostReader(session, option_keys)
