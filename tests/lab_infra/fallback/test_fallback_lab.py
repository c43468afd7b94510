"""``lab up --contingency`` on a deployed (bootstrapped) lab: the fallback's VMs, created and powered on in the
simulator, boot fresh nodes at the fallback's addresses, apart from the primary; powered off, nothing answers."""

from __future__ import annotations

from pathlib import Path

import dns.message
import dns.query
from pydantic import SecretStr

from securemode.console.client import ConsoleClient, ConsoleEndpoint, ConsoleStatus
from securemode.console.pins import HostKeyPins, fetch_host_key
from securemode.https.liveness import answers_tls
from securemode.infra.lab import processes
from securemode.infra.lab.health import check_all
from securemode.infra.lab.lifecycle import down
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.infra.lab.twin_part import API, api_get, pinned
from securemode.infra.lab.vsphere_part import DISK_IOPS_LIMIT
from securemode.pexip.transport import trusted_session
from securemode.pexip.trust import served_fingerprint
from tests.lab_infra.bare.vms import create_vm, host_session, power, vms
from tests.lab_infra.fallback.probes import (
    BOOT_S,
    fallback_install_answers,
    node_health,
    port_open,
    running,
    silent,
)
from tests.polling import wait_until

STATUS = "/api/admin/status/v1"


def _resolve(lab: RunningLab, fqdn: str) -> list[str]:
    ep = lab.part("dns1").endpoints["dns"]
    reply = dns.query.udp(dns.message.make_query(fqdn, "A"), ep.host, port=ep.port, timeout=2.0)
    return [r.to_text() for rrset in reply.answer for r in rrset]


def test_the_site_names_the_fallback_and_nothing_of_it_runs(fallback_lab: RunningLab) -> None:
    site = fallback_lab.site().site
    assert site.contingency is not None
    fallback = [site.contingency.management_node, *site.contingency.conferencing_nodes]
    assert [n.name for n in fallback] == ["mgr-c", "conf01-c"]
    assert [n.hostname for n in fallback] == ["mgr-c", "conf01-c"]
    manifest = fallback_lab.manifest
    assert {n["name"]: n["address"] for n in manifest.fallback_nodes} == {n.name: str(n.address) for n in fallback}
    primary_net = str(site.management_node.address).rsplit(".", 1)[0]
    assert [str(n.address) for n in fallback] == [f"{primary_net}.200", f"{primary_net}.201"]  # the primary's subnet
    # two primary VMs and their quarantined copies after a rebuild, two fallback VMs, one spare
    assert site.vsphere.iops_budget == DISK_IOPS_LIMIT * 7
    assert Path(str(site.management_node.ova)).is_file()  # what the fallback's Management Node is deployed from
    for node in fallback:
        assert _resolve(fallback_lab, f"{node.hostname}.{site.management_node.domain}") == [str(node.address)]
    assert silent(str(fallback[0].address), 22, 443) and silent(str(fallback[1].address), 443)
    assert port_open(str(site.management_node.address), 443)  # the primary runs as deployed
    with host_session(fallback_lab) as si:
        assert set(vms(si)) == {"mgr", "conf01"}  # the fallback's VMs are the engine's to create
    report = check_all(fallback_lab.manifest)
    assert all(h.ok for h in report), [h for h in report if not h.ok]
    assert {h.part: h.expected for h in report if h.part.startswith("vm ")} == {
        "vm mgr-c": "powered off (nothing runs)",
        "vm conf01-c": "powered off (nothing runs)",
    }


def test_power_drives_the_fallback_management_node(fallback_lab: RunningLab, tmp_path: Path) -> None:
    site = fallback_lab.site().site
    assert site.contingency is not None
    node = site.contingency.management_node
    address, primary = str(node.address), str(site.management_node.address)
    pins = HostKeyPins(tmp_path / "known_hosts")
    password = SecretStr(fallback_lab.secret("contingency-admin-password"))
    with host_session(fallback_lab) as si:
        vm = create_vm(si, node.name)
        assert silent(address, 22)  # created, not powered on
        power(vm, on=True)
        wait_until(lambda: port_open(address, 22), BOOT_S, what="the fallback's console after power-on")
        key = fetch_host_key(address, 22)
        assert key.public_key != fetch_host_key(primary, 22).public_key  # a node of its own
        pins.pin(address, 22, key.public_key)
        client = ConsoleClient(ConsoleEndpoint(address, 22), password, pins, prompt_timeout_s=10, connect_timeout_s=5)
        assert client.observe().status is ConsoleStatus.PASSWORD_NOT_SET  # fresh: never installed
        assert not answers_tls(address, 443)[0]
        booting = node_health(fallback_lab, node.name)
        assert booting.ok and booting.expected == "SSH console", booting
        client.run_install_wizard(fallback_install_answers(site, password))
        wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="the fallback's HTTPS after the wizard")
        fingerprint = served_fingerprint(address, 443)
        installed = api_get(
            f"https://{address}", pinned(fingerprint), ("admin", password.get_secret_value()), f"{API}/management_vm/"
        )["objects"][0]
        assert (installed["address"], installed["hostname"]) == (address, node.hostname)
        assert fingerprint != served_fingerprint(primary, 443)
        wait_until(lambda: node_health(fallback_lab, node.name).ok, BOOT_S, what="lab status: the fallback installed")

        power(vm, on=False)
        wait_until(lambda: running(fallback_lab)["running"] == {}, BOOT_S, what="the fallback's processes stopped")
        wait_until(lambda: silent(address, 22, 443), BOOT_S, what="nothing answering at the fallback's address")
        off = node_health(fallback_lab, node.name)
        assert off.ok and off.expected == "powered off (nothing runs)", off
        assert port_open(primary, 443) and port_open(primary, 22)  # the primary never noticed

        power(vm, on=True)  # a reboot: the same fallback node, installed, same host key and certificate
        wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="the fallback's HTTPS after the second boot")
        wait_until(lambda: port_open(address, 22), BOOT_S, what="the fallback's console after the second boot")
        assert fetch_host_key(address, 22).public_key == key.public_key
        assert served_fingerprint(address, 443) == fingerprint
        assert client.observe().status is ConsoleStatus.INSTALLED


def _installed_fallback_manager(lab: RunningLab, si: object, pins: HostKeyPins) -> str:
    """The fallback Management Node powered on and installed (whatever the earlier tests left); its fingerprint."""
    site = lab.site().site
    assert site.contingency is not None
    node = site.contingency.management_node
    address = str(node.address)
    vm = vms(si).get(node.name) or create_vm(si, node.name)
    if vm.runtime.powerState != "poweredOn":
        power(vm, on=True)
    wait_until(lambda: port_open(address, 22), BOOT_S, what="the fallback's console")
    pins.pin(address, 22, fetch_host_key(address, 22).public_key)
    password = SecretStr(lab.secret("contingency-admin-password"))
    client = ConsoleClient(ConsoleEndpoint(address, 22), password, pins, prompt_timeout_s=10, connect_timeout_s=5)
    if client.observe().status is not ConsoleStatus.INSTALLED:
        client.run_install_wizard(fallback_install_answers(site, password))
    wait_until(lambda: answers_tls(address, 443)[0], BOOT_S, what="the fallback Management Node's HTTPS")
    return served_fingerprint(address, 443)


def test_a_fallback_conferencing_node_registers_with_the_fallback_manager(
    fallback_lab: RunningLab, tmp_path: Path
) -> None:
    site = fallback_lab.site().site
    assert site.contingency is not None
    manager, conf = site.contingency.management_node, site.contingency.conferencing_nodes[0]
    primary_conf = site.conferencing_nodes[0]
    base = f"https://{manager.address}"
    admin = ("admin", fallback_lab.secret("contingency-admin-password"))
    with host_session(fallback_lab) as si:
        fingerprint = _installed_fallback_manager(fallback_lab, si, HostKeyPins(tmp_path / "known_hosts"))
        with trusted_session(pinned(fingerprint)) as api:
            api.auth = admin
            created = api.post(f"{base}{API}/system_location/", json={"name": primary_conf.location}, timeout=10)
            assert created.status_code == 201, created.text
            body = {
                "name": conf.name,
                "hostname": conf.hostname,
                "domain": primary_conf.domain,
                "address": str(conf.address),
                "netmask": str(primary_conf.netmask),
                "gateway": str(primary_conf.gateway),
                "system_location": "/" + created.headers["Location"].split("://", 1)[-1].split("/", 1)[1],
                "password": fallback_lab.secret(f"node-password-{primary_conf.name}"),
                "node_type": "CONFERENCING",
                "deployment_type": "MANUAL-ESXI6",
            }
            assert api.post(f"{base}{API}/worker_vm/", json=body, timeout=10).status_code == 201

            def status() -> dict[str, object]:
                rows = api.get(f"{base}{STATUS}/worker_vm/", params={"name": conf.name}, timeout=10).json()
                row: dict[str, object] = rows["objects"][0]
                return row

            assert status()["deploy_status"] == "NOT_DEPLOYED"
            vm = create_vm(si, conf.name)
            power(vm, on=True)
            wait_until(lambda: answers_tls(str(conf.address), 443)[0], BOOT_S, what="the fallback node's HTTPS")
            wait_until(
                lambda: (status()["deploy_status"], status()["sync_status"]) == ("DEPLOYED", "SYNCED"),
                BOOT_S,
                what="the fallback node registering with the fallback Management Node",
            )
        primary = api_get(
            fallback_lab.api_base, pinned(fallback_lab.api_fingerprint), fallback_lab.admin, f"{API}/worker_vm/"
        )
        assert [w["name"] for w in primary["objects"]] == [primary_conf.name]  # the primary never heard of it
        wait_until(lambda: node_health(fallback_lab, conf.name).ok, BOOT_S, what="lab status: the fallback node")
        assert "SIP/TCP" in node_health(fallback_lab, conf.name).detail


def test_lab_down_stops_the_fallback_nodes(fallback_lab: RunningLab) -> None:
    """Last in this module: it takes the module's lab down."""
    name = "mgr-c"
    with host_session(fallback_lab) as si:
        vm = vms(si).get(name) or create_vm(si, name)
        if vm.runtime.powerState != "poweredOn":
            power(vm, on=True)
    wait_until(lambda: name in running(fallback_lab)["running"], BOOT_S, what="the fallback Management Node booted")
    booted = [processes.ProcessIdentity.from_dict(i) for ids in running(fallback_lab)["running"].values() for i in ids]
    assert len(booted) >= 2 and all(processes.is_running(i) for i in booted)  # console, twin, agent
    _, stopped = down()
    assert "power-fallback" in stopped
    assert not any(processes.is_running(i) for i in booted)
