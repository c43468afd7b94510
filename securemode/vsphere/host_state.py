"""Reading the host's networking, services and time settings as plain values (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from securemode.vsphere.properties import read_path


@dataclass(frozen=True)
class VswitchState:
    name: str
    pnics: tuple[str, ...]
    spec: Any


@dataclass(frozen=True)
class PortGroupState:
    name: str
    vlan: int
    vswitch: str
    spec: Any
    computed_security: Any


@dataclass(frozen=True)
class NetworkState:
    """The host's standard networking, by name: pNIC devices, vSwitches (with pNIC devices), port groups."""

    pnics: tuple[str, ...]
    vswitches: dict[str, VswitchState]
    portgroups: dict[str, PortGroupState]

    def pnics_of_portgroup(self, name: str) -> tuple[str, ...]:
        pg = self.portgroups.get(name)
        vs = self.vswitches.get(pg.vswitch) if pg else None
        return vs.pnics if vs else ()


def read_network(host: Any) -> NetworkState:
    net = read_path(host, "config.network")
    devices = {p.key: p.device for p in net.pnic or []}
    vswitches = {
        vs.name: VswitchState(name=vs.name, pnics=tuple(devices.get(k, k) for k in vs.pnic or []), spec=vs.spec)
        for vs in net.vswitch or []
    }
    portgroups = {
        pg.spec.name: PortGroupState(name=pg.spec.name, vlan=int(pg.spec.vlanId), vswitch=pg.spec.vswitchName,
                                     spec=pg.spec,
                                     computed_security=pg.computedPolicy.security if pg.computedPolicy else None)
        for pg in net.portgroup or []
    }
    return NetworkState(pnics=tuple(p.device for p in net.pnic or []), vswitches=vswitches, portgroups=portgroups)


def read_services(host: Any) -> dict[str, Any]:
    """Service key → HostService (``running``, ``policy``)."""
    info = host.configManager.serviceSystem.serviceInfo
    return {svc.key: svc for svc in (info.service if info else [])}


def read_ntp_servers(host: Any) -> list[str]:
    info = read_path(host, "config.dateTimeInfo")
    ntp = info.ntpConfig if info is not None else None
    return list(ntp.server) if ntp is not None and ntp.server else []


def read_lockdown_mode(host: Any) -> str:
    return str(read_path(host, "config.lockdownMode"))
