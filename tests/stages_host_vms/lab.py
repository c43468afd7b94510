"""The lab site for these tests: examples/site.yaml pointed at a vcsim-ext, and helpers to run a stage."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyVim.connect import Disconnect, SmartConnect

from securemode.infra.ova import OvaSpec, build_ova
from securemode.infra.vcsim import Vcsim
from securemode.results import Result, Status
from securemode.site_loader import LoadedSite, load_site
from securemode.vsphere.trust import pinned_context

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "site.yaml"
SECRETS = {
    "SM_ADMIN_PASSWORD": "admin-secret-L2", "SM_NODE_PASSWORD": "node-secret-L3", "SM_NTP_KEY_1": "ntp-key-L4xx",
    "SM_NTP_KEY_2": "ntp-key-L5xx", "SM_SNMP_AUTH": "snmp-auth-L6xx", "SM_SNMP_PRIV": "snmp-priv-L7xx",
    "SM_LDAP_BIND": "ldap-bind-L8xx", "SM_SNMP_COMMUNITY": "community-L9xx",
}
BANNER = "Authorised use only. Activity on this host is monitored."
SYSLOG = "udp://127.0.0.1:514"


def lab_document(sim: Vcsim, name: str) -> dict[str, Any]:
    """The example site, on the simulator: its port and certificate, LocalDS_0, vSwitch0/vmnic0 for management
    (as the ESX model has it), and a VM network on vSwitch1/vmnic1 that the host stage creates."""
    doc: dict[str, Any] = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    doc["name"] = name
    vs = doc["vsphere"]
    vs.update(host=sim.host, port=sim.port, username=sim.username, datastore="LocalDS_0",
              trust={"fingerprint_sha256": sim.tls_fingerprint}, syslog_host=SYSLOG, login_banner=BANNER)
    vs["networks"] = {
        "management": {"port_group": "Management Network", "vswitch": "vSwitch0", "pnics": ["vmnic0"], "vlan": 0},
        "vm": {"port_group": "Pexip Network", "vswitch": "vSwitch1", "pnics": ["vmnic1"], "vlan": 20},
    }
    doc["management_node"].update(ova="mgr.ova", vlan=20)
    doc["management_node"]["vm"] = {"cpus": 4, "memory_mb": 8192, "disk_iops_limit": 1000}
    return doc


def write_site(folder: Path, doc: dict[str, Any], ova: bool = True) -> LoadedSite:
    folder.mkdir(parents=True, exist_ok=True)
    if ova and not (folder / "mgr.ova").exists():
        build_ova(folder / "mgr.ova", OvaSpec(cpus=2, memory_mb=4096))
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_site(path)


@contextmanager
def lab_environment(sim: Vcsim, state: Path) -> Iterator[pytest.MonkeyPatch]:
    """Secrets in the environment (the vSphere one is the simulator's) and a private state folder."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in SECRETS.items():
            mp.setenv(key, value)
        mp.setenv("SM_VSPHERE_PASSWORD", sim.password)
        mp.setenv("SECUREMODE_STATE_DIR", str(state))
        yield mp


@contextmanager
def side_session(sim: Vcsim) -> Iterator[Any]:
    """Someone else's pyVmomi session (pinned to the simulator's certificate), for breaking things behind the
    engine's back and for dumps."""
    si = SmartConnect(  # type: ignore[no-untyped-call]
        host=sim.host, port=sim.port, user=sim.username, pwd=sim.password, sslContext=pinned_context(sim.tls_sha256))
    try:
        yield si
    finally:
        Disconnect(si)  # type: ignore[no-untyped-call]


def statuses(results: list[Result]) -> dict[str, Status]:
    return {r.control: r.status for r in results}


def failing(results: list[Result]) -> set[str]:
    return {r.control for r in results if r.status is not Status.PASS}
