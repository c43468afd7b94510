"""The bare lab: a fresh host and the Management Node's OVA; powering a VM on boots its node, powering it off
stops its sockets, and what the node was told survives the power cycle."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from pydantic import SecretStr

from securemode.console.answers import install_answers
from securemode.console.client import ConsoleClient, ConsoleEndpoint, ConsoleStatus
from securemode.console.pins import HostKeyPins, fetch_host_key
from securemode.https.liveness import answers_tls
from securemode.infra.lab import processes
from securemode.infra.lab.health import Health, check_all
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.lab.twin_part import API, pinned
from securemode.pexip.transport import trusted_session
from securemode.pexip.trust import served_fingerprint
from securemode.vsphere.ova import read_ova
from tests.lab_infra.bare.vms import create_vm, host_session, power, vms
from tests.polling import wait_until

BOOT_S = 30.0
STATUS = "/api/admin/status/v1"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _running(lab: RunningLab) -> dict[str, object]:
    data: dict[str, object] = json.loads(Path(str(lab.part("power").facts["running_file"])).read_text())
    return data


def _node_health(lab: RunningLab, name: str) -> Health:
    """``lab status``'s line for the node ``name``."""
    return {h.part: h for h in check_all(lab.manifest)}[f"vm {name}"]


def test_bare_host_has_nothing_deployed_and_the_ova_named_by_the_site(bare_lab: RunningLab) -> None:
    site = bare_lab.site().site
    assert bare_lab.manifest.profile == "bare"
    assert "twin" not in bare_lab.manifest.parts and "console" not in bare_lab.manifest.parts
    assert site.management_node.https_fingerprint_sha256 is None  # nothing installed, nothing to pin yet
    ova = Path(str(site.management_node.ova))
    assert ova.parent.name == "images" and ova.is_file()
    assert read_ova(ova).disks == 1
    with host_session(bare_lab) as si:
        assert vms(si) == {}
    address = str(site.management_node.address)
    assert not _port_open(address, 22) and not answers_tls(address, 443)[0]
    report = check_all(bare_lab.manifest)  # lab status: every node off, and that is healthy
    assert all(h.ok for h in report), report
    assert {h.part: h.expected for h in report if h.part.startswith("vm ")} == {
        f"vm {n.name}": "powered off (nothing runs)" for n in site.nodes()
    }


def test_power_drives_the_management_node(bare_lab: RunningLab, tmp_path: Path) -> None:
    loaded = bare_lab.site()
    node = loaded.site.management_node
    address = str(node.address)
    pins = HostKeyPins(tmp_path / "known_hosts")
    password = SecretStr(bare_lab.secret("admin-password"))
    with host_session(bare_lab) as si:
        vm = create_vm(si, node.name)
        assert not _port_open(address, 22)  # created, not powered on: nothing runs
        power(vm, on=True)
        wait_until(lambda: _port_open(address, 22), BOOT_S, what="the console after power-on")
        key = fetch_host_key(address, 22)
        pins.pin(address, 22, key.public_key)
        client = ConsoleClient(ConsoleEndpoint(address, 22), password, pins, prompt_timeout_s=10, connect_timeout_s=5)
        assert client.observe().status is ConsoleStatus.PASSWORD_NOT_SET
        assert not answers_tls(address, 443)[0]  # no web interface before the installation wizard
        booting = _node_health(bare_lab, node.name)
        assert booting.ok and booting.expected == "SSH console" and "SSH-2.0" in booting.detail, booting
        client.run_install_wizard(install_answers(loaded.site, password))
        wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="HTTPS after the installation wizard")
        assert client.observe().status is ConsoleStatus.INSTALLED
        wait_until(lambda: _node_health(bare_lab, node.name).ok, BOOT_S, what="the console back after the wizard")
        installed = _node_health(bare_lab, node.name)
        assert "HTTPS" in installed.expected and "self-signed" in installed.detail, installed
        fingerprint = served_fingerprint(address, 443)

        power(vm, on=False)
        wait_until(lambda: _running(bare_lab)["running"] == {}, BOOT_S, what="the node's processes stopped")
        assert not _port_open(address, 22) and not answers_tls(address, 443)[0]

        power(vm, on=True)  # a reboot: the same node, installed, same host key and certificate
        wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="HTTPS after the second power-on")
        wait_until(lambda: _port_open(address, 22), BOOT_S, what="the console after the second power-on")
        assert fetch_host_key(address, 22).public_key == key.public_key
        assert client.observe().status is ConsoleStatus.INSTALLED
        assert served_fingerprint(address, 443) == fingerprint


def _installed_manager(lab: RunningLab, si: object, pins: HostKeyPins) -> str:
    """The Management Node powered on and installed (whatever the earlier tests left); its HTTPS fingerprint."""
    loaded = lab.site()
    node = loaded.site.management_node
    address = str(node.address)
    vm = vms(si).get(node.name) or create_vm(si, node.name)
    if vm.runtime.powerState != "poweredOn":
        power(vm, on=True)
    wait_until(lambda: _port_open(address, 22), BOOT_S, what="the console")
    pins.pin(address, 22, fetch_host_key(address, 22).public_key)
    password = SecretStr(lab.secret("admin-password"))
    client = ConsoleClient(ConsoleEndpoint(address, 22), password, pins, prompt_timeout_s=10, connect_timeout_s=5)
    if client.observe().status is not ConsoleStatus.INSTALLED:
        client.run_install_wizard(install_answers(loaded.site, password))
    wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="the Management Node's HTTPS")
    return served_fingerprint(address, 443)


def test_a_conferencing_node_is_created_downloaded_booted_and_reports_in(bare_lab: RunningLab, tmp_path: Path) -> None:
    site = bare_lab.site().site
    conf = site.conferencing_nodes[0]
    base = f"https://{site.management_node.address}"
    with host_session(bare_lab) as si:
        fingerprint = _installed_manager(bare_lab, si, HostKeyPins(tmp_path / "known_hosts"))
        with trusted_session(pinned(fingerprint)) as api:
            api.auth = bare_lab.admin
            created = api.post(f"{base}{API}/system_location/", json={"name": conf.location}, timeout=10)
            assert created.status_code == 201
            body = {
                "name": conf.name,
                "hostname": conf.hostname,
                "domain": conf.domain,
                "address": str(conf.address),
                "netmask": str(conf.netmask),
                "gateway": str(conf.gateway),
                "system_location": "/" + created.headers["Location"].split("://", 1)[-1].split("/", 1)[1],
                "password": bare_lab.secret(f"node-password-{conf.name}"),
                "node_type": "CONFERENCING",
                "deployment_type": "MANUAL-ESXI6",
            }
            resp = api.post(f"{base}{API}/worker_vm/", json=body, timeout=10)
            assert resp.status_code == 201, resp.text
            ova_path = tmp_path / f"{conf.name}.ova"
            ova_path.write_bytes(resp.content)
            package = read_ova(ova_path)  # what the nodes stage will import: it passes the engine's checks
            assert f'ovf:key="address" ovf:type="string" ovf:value="{conf.address}"' in package.descriptor

            def status() -> dict[str, object]:
                rows = api.get(f"{base}{STATUS}/worker_vm/", params={"name": conf.name}, timeout=10).json()
                row: dict[str, object] = rows["objects"][0]
                return row

            assert (status()["deploy_status"], status()["last_updated"]) == ("NOT_DEPLOYED", None)
            vm = create_vm(si, conf.name)
            power(vm, on=True)
            address = str(conf.address)
            wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="the conferencing node's HTTPS")
            wait_until(
                lambda: status()["deploy_status"] == "DEPLOYED" and status()["sync_status"] == "SYNCED",
                BOOT_S,
                what="the node registering with the Management Node",
            )
            wait_until(lambda: _node_health(bare_lab, conf.name).ok, BOOT_S, what="lab status: the node healthy")
            assert "SIP/TCP" in _node_health(bare_lab, conf.name).detail
            agent = _running(bare_lab)["running"][conf.name][0]  # type: ignore[index]
            assert processes.stop(processes.ProcessIdentity.from_dict(agent))
            dead = _node_health(bare_lab, conf.name)
            assert not dead.ok and "ended while the VM is powered on" in dead.detail, dead
            power(vm, on=False)
            wait_until(lambda: not answers_tls(address, 443)[0], BOOT_S, what="the node's HTTPS closed")
            wait_until(lambda: _node_health(bare_lab, conf.name).ok, BOOT_S, what="lab status: the node off")
