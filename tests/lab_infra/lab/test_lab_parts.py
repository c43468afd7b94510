"""Every part of the running lab, spoken to with its real protocol client (one lab per session)."""

from __future__ import annotations

import asyncio
import logging.handlers
import os
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
import requests

from securemode.endpoint import Endpoint
from securemode.infra.lab.health import check_all
from securemode.infra.lab.pytest_fixture import RunningLab
from securemode.pexip.transport import trusted_session
from securemode.pexip.trust import PinnedFingerprint, normalise_fingerprint
from securemode.results import Status
from securemode.site_loader import load_site
from securemode.verifiers import dns as dns_verifier
from securemode.verifiers import ldap as ldap_verifier
from securemode.verifiers import ntp as ntp_verifier
from securemode.verifiers import sip as sip_verifier
from securemode.verifiers import snmp as snmp_verifier
from securemode.verifiers import syslog as syslog_verifier

API = "/api/admin/configuration/v1"


@pytest.fixture
def api(lab: RunningLab) -> Iterator[requests.Session]:
    with trusted_session(PinnedFingerprint(normalise_fingerprint(lab.api_fingerprint))) as session:
        session.auth = lab.admin
        yield session


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_site_file_validates_and_every_part_answers(lab: RunningLab) -> None:
    loaded = load_site(lab.site_file)
    assert [n.name for n in loaded.site.conferencing_nodes] == ["conf01", "conf02"]
    assert loaded.site.vsphere.trust.fingerprint_sha256 == lab.part("vcsim").facts["tls_fingerprint"]
    assert sorted(a.role.value for a in loaded.site.administrators) == ["Auditor", "Read-only", "Read-write"]
    admin_passwords = [a.password for a in loaded.site.administrators if a.password]
    for ref in (loaded.site.vsphere.password, loaded.site.snmp.auth_password, loaded.site.ldap.bind_password,
                *admin_passwords):
        path = ref.removeprefix("file:")
        assert ref.startswith("file:") and os.stat(path).st_mode & 0o777 == 0o600
    down = [h for h in check_all(lab.manifest) if not h.ok]
    assert down == []


def test_vsphere_login_with_the_site_trust_sees_the_lab_networks_vms_and_bounded_iops(lab: RunningLab) -> None:
    from securemode.tasks.vms.budget import actual_sum
    from securemode.vsphere.desired_vm import disks, iops_limit
    from securemode.vsphere.session import open_site_session
    from securemode.vsphere.vmodl import vim

    loaded = lab.site()
    with open_site_session(loaded) as session:
        host = session.host()
        net = host.config.network
        pnic_of = {p.key: p.device for p in net.pnic}
        switches = {vs.name: sorted(pnic_of[k] for k in vs.pnic) for vs in net.vswitch}
        groups = {pg.spec.name: (pg.spec.vswitchName, pg.spec.vlanId) for pg in net.portgroup}
        nets = loaded.site.vsphere.networks
        assert switches[nets.management.vswitch] == nets.management.pnics
        assert switches[nets.vm.vswitch] == nets.vm.pnics
        assert groups[nets.vm.port_group] == (nets.vm.vswitch, nets.vm.vlan)
        assert nets.management.port_group in groups
        content = session.si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vms = {vm.name: vm.runtime.powerState for vm in view.view}
        assert vms == {n["name"]: "poweredOn" for n in lab.manifest.nodes}
        limits = {vm.name: [iops_limit(d) for d in disks(vm)] for vm in view.view}
        assert limits == {n.name: [n.vm.disk_iops_limit] for n in loaded.site.nodes()}  # one disk per lab VM
        host_sum = actual_sum(list(host.vm))
        assert host_sum.unlimited == [] and host_sum.total <= loaded.site.vsphere.iops_budget


def test_management_api_with_pinned_certificate_lists_registered_nodes(lab: RunningLab, api: requests.Session) -> None:
    mgr = api.get(f"{lab.api_base}{API}/management_vm/", timeout=5).json()["objects"][0]
    assert (mgr["hostname"], mgr["address"]) == ("mgr", lab.node("mgr")["address"])
    assert sorted(d["address"] for d in mgr["dns_servers"]) == sorted(str(a) for a in lab.site().site.dns_servers)
    workers = api.get(f"{lab.api_base}{API}/worker_vm/", timeout=5).json()["objects"]
    assert {(w["name"], w["address"]) for w in workers} == {
        (n["name"], n["address"]) for n in lab.manifest.nodes if n["conferencing"]
    }
    status = api.get(f"{lab.api_base}/api/admin/status/v1/worker_vm/", timeout=5).json()["objects"]
    assert {s["name"] for s in status} == {"conf01", "conf02"}


def test_wrong_certificate_pin_is_refused(lab: RunningLab) -> None:
    with trusted_session(PinnedFingerprint("0" * 64)) as session, pytest.raises(requests.exceptions.SSLError):
        session.get(f"{lab.api_base}{API}/management_vm/", auth=lab.admin, timeout=5)


def test_ldaps_and_starttls_binds_and_groups(lab: RunningLab) -> None:
    ldap = lab.site().site.ldap
    bind_password = lab.secret("ldap-bind-password")
    modes: tuple[tuple[Literal["ldaps", "starttls"], int], ...] = (
        ("ldaps", ldap.port), ("starttls", lab.part("slapd").endpoints["ldap"].port))
    for mode, port in modes:
        result = ldap_verifier.check_ldap_service_bind("lab.ldap", "slapd",
                                                       Endpoint(ldap.server, port, ca_file=str(ldap.ca_file)),
                                                       mode=mode, bind_dn=ldap.bind_dn,
                                                       bind_password=bind_password)
        assert result.status is Status.PASS, result.message
    groups = ldap_verifier.check_ldap_groups("lab.ldap", "slapd",
                                             Endpoint(ldap.server, ldap.port, ca_file=str(ldap.ca_file)),
                                             mode="ldaps", bind_dn=ldap.bind_dn,
                                             bind_password=bind_password, group_dns=list(ldap.group_roles))
    assert groups.status is Status.PASS, groups.message


def test_both_ntp_servers_answer_authenticated_with_the_site_keys(lab: RunningLab) -> None:
    for server in lab.site().site.ntp_servers:
        assert server.key_id is not None and server.key is not None
        result = ntp_verifier.check_authenticated_ntp("lab.ntp", server.address, Endpoint(server.address, server.port),
                                                      key_id=server.key_id, key=lab.secret(f"ntp-key-{server.key_id}"),
                                                      algorithm=server.algorithm.value)
        assert result.status is Status.PASS, result.message


def test_both_dns_servers_answer_for_the_lab_names(lab: RunningLab) -> None:
    expected = {n["fqdn"]: n["address"] for n in lab.manifest.nodes}
    expected[f"ldap.{lab.manifest.domain}"] = lab.site().site.ldap.server
    port = lab.part("dns1").endpoints["dns"].port
    for server in lab.site().site.dns_servers:
        result = dns_verifier.check_dns_answers("lab.dns", str(server), Endpoint(str(server), port), expected=expected)
        assert result.status is Status.PASS, result.message


def _send_tls(host: str, port: int, ca_file: str, message: bytes) -> None:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    with socket.create_connection((host, port), 5) as raw, ctx.wrap_socket(raw) as tls:
        tls.sendall(str(len(message)).encode() + b" " + message)


def _arrived(evidence: Path, marker: str) -> Callable[[], bool]:
    return lambda: marker in evidence.read_text()


def test_syslog_receiver_gets_udp_tcp_and_tls(lab: RunningLab) -> None:
    for server in lab.site().site.syslog_servers:
        marker = syslog_verifier.new_marker()
        message = f"<134>1 2026-01-01T00:00:00Z labtest probe - m1 - {marker}"
        if server.transport.value == "tls":
            _send_tls(server.address, server.port, lab.manifest.ca["root"], message.encode())
        else:
            kind = socket.SOCK_DGRAM if server.transport.value == "udp" else socket.SOCK_STREAM
            handler = logging.handlers.SysLogHandler((server.address, server.port), socktype=kind)
            handler.append_nul = False
            handler.emit(logging.makeLogRecord({"msg": message[len("<134>"):], "levelno": logging.INFO}))
            handler.close()
        assert server.evidence_file is not None
        assert wait_until(_arrived(Path(server.evidence_file), marker), 5), f"{server.transport} not received"


def _failed_web_login(lab: RunningLab, username: str) -> None:
    token = uuid.uuid4().hex
    with trusted_session(PinnedFingerprint(normalise_fingerprint(lab.api_fingerprint))) as session:
        resp = session.post(f"{lab.api_base}/admin/login/", cookies={"csrftoken": token}, timeout=5,
                            data={"csrfmiddlewaretoken": token, "username": username, "password": "wrong-password"})
    assert resp.status_code == 200


def test_audit_events_follow_the_configured_syslog_server(lab: RunningLab, api: requests.Session) -> None:
    """Configure a syslog server on the Management Node via the API; the node forwards audit events there."""
    site = lab.site().site
    udp = next(s for s in site.syslog_servers if s.transport.value == "udp")
    created = api.post(f"{lab.api_base}{API}/syslog_server/", timeout=5,
                       json={"address": udp.address, "port": udp.port, "transport": "udp", "audit_log": True})
    assert created.status_code == 201
    uri = "/" + created.headers["Location"].split("://", 1)[-1].split("/", 1)[-1].lstrip("/")
    mgr = api.get(f"{lab.api_base}{API}/management_vm/1/", timeout=5).json()
    api.patch(f"{lab.api_base}{API}/management_vm/1/", json={"syslog_servers": [uri]}, timeout=5)
    try:
        assert udp.evidence_file is not None
        result = syslog_verifier.check_event_reaches_receivers(
            "lab.syslog", "mgr", cause_event=lambda marker: _failed_web_login(lab, marker),
            receivers={"udp": udp.evidence_file}, within_s=5 + 4 * lab.manifest.sync_interval_s)
        assert result.status is Status.PASS, result.message
    finally:
        api.patch(f"{lab.api_base}{API}/management_vm/1/",
                  json={"syslog_servers": [d["resource_uri"] for d in mgr["syslog_servers"]]}, timeout=5)
        api.delete(f"{lab.api_base}{uri}", timeout=5)


def test_sip_options_over_tcp_and_tls_on_every_node(lab: RunningLab) -> None:
    for node in lab.manifest.nodes:
        part = lab.part(f"node-{node['name']}")
        for transport in (sip_verifier.SipTransport.TCP, sip_verifier.SipTransport.TLS):
            ep = part.endpoints[f"sip_{transport.value}"]
            result = sip_verifier.check_options("lab.sip", node["name"], Endpoint(ep.host, ep.port), transport)
            assert result.status is Status.PASS, result.message


def test_snmp_agent_follows_the_management_node_configuration(lab: RunningLab, api: requests.Session) -> None:
    """SNMPv3 set through the API reaches conf01's agent after the replication delay; off again afterwards."""
    snmp = lab.site().site.snmp
    auth, priv = lab.secret("snmp-auth-password"), lab.secret("snmp-priv-password")
    node = lab.node("conf01")
    uri = f"{lab.api_base}{API}/worker_vm/?name=conf01"
    worker = api.get(uri, timeout=5).json()["objects"][0]
    detail = f"{lab.api_base}{worker['resource_uri']}"
    port = lab.part("node-conf01").endpoints["snmp"].port
    agent = Endpoint(node["address"], port, timeout_s=0.5)
    before = asyncio.run(snmp_verifier.check_v3_get("lab.snmp", "conf01", agent, snmp.username, auth, priv, retries=0))
    # SNMP off in a fresh deployment: nothing answers, and silence cannot tell "off" from "agent dead" (ERROR;
    # the platform stage's read-back of snmp_mode is what makes it a FAIL there)
    assert before.status is Status.ERROR
    resp = api.patch(detail, timeout=5, json={"snmp_mode": "AUTHPRIV", "snmp_username": snmp.username,
                                              "snmp_authentication_password": auth, "snmp_privacy_password": priv})
    assert resp.status_code == 202
    try:
        def answers() -> bool:
            result = asyncio.run(snmp_verifier.check_v3_get("lab.snmp", "conf01", agent, snmp.username, auth, priv,
                                                            expected_sysname="conf01", retries=0))
            return result.status is Status.PASS

        assert wait_until(answers, 5 + 4 * lab.manifest.sync_interval_s)
    finally:
        api.patch(detail, json={"snmp_mode": "DISABLED"}, timeout=5)


def test_console_accepts_the_admin_password(lab: RunningLab) -> None:
    import asyncio

    import asyncssh

    ssh = lab.part("console").endpoints["ssh"]

    async def login(password: str) -> bool:
        try:
            conn = await asyncssh.connect(ssh.host, ssh.port, username="admin", password=password,
                                          known_hosts=None, login_timeout=5)
        except asyncssh.PermissionDenied:
            return False
        conn.close()
        await conn.wait_closed()
        return True

    assert asyncio.run(login(lab.admin[1])) is True
    assert asyncio.run(login("not-the-password")) is False
