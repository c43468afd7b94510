"""What the fallback tests look at: ports at an address, the fallback watcher's record, ``lab status`` lines."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from securemode.console.answers import InstallAnswers, install_answers
from securemode.infra.lab.health import Health, check_all
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.site import Site
from securemode.verifiers.ports import PortState, probe_tcp

BOOT_S = 30.0
SILENT_TIMEOUT_S = 0.5  # on this machine a connect is answered in microseconds: half a second of silence is silence
FALLBACK_WATCHER = "power-fallback"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def silent(host: str, *ports: int) -> bool:
    """Nothing answers at all (a powered-off machine): every port's connect times out, none is refused."""
    return all(probe_tcp(host, port, SILENT_TIMEOUT_S).state is PortState.FILTERED for port in ports)


def running(lab: RunningLab, watcher: str = FALLBACK_WATCHER) -> dict[str, Any]:
    """A power watcher's record: the VMs it saw powered on, the processes it started per node."""
    data: dict[str, Any] = json.loads(Path(str(lab.part(watcher).facts["running_file"])).read_text())
    return data


def node_health(lab: RunningLab, name: str) -> Health:
    """``lab status``'s line for the node ``name``."""
    return {h.part: h for h in check_all(lab.manifest)}[f"vm {name}"]


def fallback_install_answers(site: Site, password: SecretStr) -> InstallAnswers:
    """The installation wizard's answers for the fallback Management Node: the primary's, with the fallback's
    own identity (what the contingency stage answers)."""
    assert site.contingency is not None
    node = site.contingency.management_node
    primary = install_answers(site, password)
    return InstallAnswers(
        str(node.address),
        primary.netmask,
        primary.gateway,
        node.hostname,
        primary.domain,
        primary.dns_servers,
        primary.ntp_servers,
        primary.web_username,
        password,
    )
