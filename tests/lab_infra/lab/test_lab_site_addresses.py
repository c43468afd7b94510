"""The nodes as the engine sees them: every service, and the closed-port policy, at the site file's addresses.

As root those are the nodes' addresses in the lab namespace (a firewall may only go there); the
probes are the engine's own verifiers, aimed at the addresses the site file names.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import pytest
import requests
import yaml

from securemode.endpoint import Endpoint
from securemode.infra.lab.lifecycle import LabError, UpOptions, up
from securemode.infra.lab.manifest import read_manifest
from securemode.infra.lab.pytest_fixture import CONTINGENCY_ENV, RunningLab
from securemode.infra.lab.vsphere_part import DISK_IOPS_LIMIT
from securemode.infra.pki.ca import LabCA
from securemode.pexip.transport import trusted_session
from securemode.pexip.trust import PinnedFingerprint, normalise_fingerprint
from securemode.results import Result, Status
from securemode.site import Site
from securemode.verifiers import ports, sip, tls
from tests.lab_infra.lab.twin_settings import security_settings, settle

API = "/api/admin/configuration/v1"
CLOSED_PORT = 8443

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab namespace (site addresses, closed ports) needs root")


@pytest.fixture(scope="module")
def site(lab: RunningLab) -> Site:
    if lab.manifest.netns is None:
        pytest.skip(f"namespace unavailable: {lab.manifest.netns_unavailable}")
    return lab.site().site


@pytest.fixture
def api(lab: RunningLab, site: Site) -> Iterator[requests.Session]:
    """The Management API at the site address, pinned to the site file's fingerprint (as the engine does)."""
    fingerprint = site.management_node.https_fingerprint_sha256
    assert fingerprint is not None
    with trusted_session(PinnedFingerprint(normalise_fingerprint(fingerprint))) as session:
        session.auth = lab.admin
        yield session


def base(site: Site) -> str:
    return f"https://{site.management_node.address}"


def wait_for(probe: Callable[[], Result], timeout: float) -> Result:
    """Run ``probe`` until it passes or ``timeout`` ends; returns the last result."""
    deadline = time.monotonic() + timeout
    result = probe()
    while result.status is not Status.PASS and time.monotonic() < deadline:
        time.sleep(0.2)
        result = probe()
    return result


def closed_port(site: Site, expect_drop: bool) -> Callable[[], Result]:
    host = str(site.management_node.address)
    return lambda: ports.check_closed_port_behaviour("lab.ports", "mgr", Endpoint(host, CLOSED_PORT, timeout_s=0.5),
                                                     expect_drop, reference=Endpoint(host, 443))


def test_closed_port_on_the_management_site_address_drops_then_rejects(lab: RunningLab, site: Site) -> None:
    dropped = closed_port(site, expect_drop=True)()
    assert dropped.status is Status.PASS, dropped.message
    try:
        with security_settings(lab, drop_closed_ports=False):
            rejected = wait_for(closed_port(site, expect_drop=False), settle(lab))
            assert rejected.status is Status.PASS, rejected.message
            assert rejected.observed["closed"]["state"] == "refused"  # type: ignore[index,call-overload]
    finally:
        assert wait_for(closed_port(site, expect_drop=True), settle(lab)).status is Status.PASS


def _port_state(host: str, port: int, protocol: str = "tcp") -> Callable[[], ports.PortState]:
    if protocol == "udp":
        return lambda: ports.probe_udp(host, port, timeout=0.3).state
    return lambda: ports.probe_tcp(host, port, timeout=0.3).state


def _becomes(state: Callable[[], ports.PortState], wanted: ports.PortState, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while state() is not wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_only_the_ports_in_use_are_open(lab: RunningLab, site: Site) -> None:
    """SSH only on the manager and only while the console takes logins; SNMP closed while it is DISABLED."""
    mgr, conf = str(site.management_node.address), str(site.conferencing_nodes[0].address)
    assert _port_state(mgr, 22)() is ports.PortState.OPEN
    assert _port_state(conf, 22)() is ports.PortState.FILTERED
    assert _port_state(conf, 443)() is ports.PortState.OPEN
    assert _port_state(conf, site.snmp.port, "udp")() is ports.PortState.FILTERED  # no ICMP from a closed agent
    try:
        with security_settings(lab, disable_admin_account=True):
            assert _becomes(_port_state(mgr, 22), ports.PortState.FILTERED, settle(lab))
    finally:
        assert _becomes(_port_state(mgr, 22), ports.PortState.OPEN, settle(lab))


def test_every_service_answers_at_the_site_addresses(lab: RunningLab, site: Site, api: requests.Session) -> None:
    mgr = api.get(f"{base(site)}{API}/management_vm/", timeout=5).json()["objects"][0]
    assert (mgr["address"], mgr["gateway"]) == (str(site.management_node.address), str(site.management_node.gateway))
    workers = api.get(f"{base(site)}{API}/worker_vm/", timeout=5).json()["objects"]
    assert {w["name"]: w["address"] for w in workers} == {n.name: str(n.address) for n in site.conferencing_nodes}

    async def console_login() -> bool:
        conn = await asyncssh.connect(str(site.management_node.address), 22, username="admin",
                                      password=lab.admin[1], known_hosts=None, login_timeout=5)
        conn.close()
        await conn.wait_closed()
        return True

    assert asyncio.run(console_login())
    for node in site.nodes():
        endpoints = lab.part(f"node-{node.name}").endpoints
        for transport in sip.SipTransport:
            port = endpoints[f"sip_{transport.value}"].port
            result = sip.check_options("lab.sip", node.name, Endpoint(str(node.address), port), transport)
            assert result.status is Status.PASS, f"{node.name} {transport}: {result.message}"


def _upload_and_assign(api: requests.Session, site: Site, node_name: str, ca: LabCA) -> tuple[str, str, str]:
    """A lab-CA certificate for the node, uploaded and assigned; returns (cert URI, worker URI, key PEM)."""
    node = next(n for n in site.conferencing_nodes if n.name == node_name)
    issued = ca.issue_server(f"labtest-{node_name}-{uuid.uuid4().hex[:8]}", dns_names=[node.fqdn],
                             ip_addresses=[str(node.address)], key_type="rsa")
    key_pem = issued.key_path.read_text()
    created = api.post(f"{base(site)}{API}/tls_certificate/", timeout=10,
                       json={"certificate": issued.fullchain_path.read_text(), "private_key": key_pem})
    assert created.status_code == 201, created.text
    cert_uri = "/" + created.headers["Location"].split("://", 1)[-1].split("/", 1)[-1].lstrip("/")
    worker = api.get(f"{base(site)}{API}/worker_vm/?name={node_name}", timeout=5).json()["objects"][0]
    assert api.patch(f"{base(site)}{worker['resource_uri']}", json={"tls_certificate": cert_uri},
                     timeout=5).status_code == 202
    return cert_uri, worker["resource_uri"], key_pem


def test_conferencing_nodes_answer_tls_on_443_with_their_assigned_certificate(
    lab: RunningLab, site: Site, api: requests.Session
) -> None:
    conf01, conf02 = (str(n.address) for n in site.conferencing_nodes[:2])
    self_signed_key = (Path(lab.part("node-conf01").workdir) / "self-signed.key").read_text()
    before = tls.check_key_matches("lab.tls", "conf01", Endpoint(conf01, 443), self_signed_key)
    assert before.status is Status.PASS, before.message  # the node's first-boot certificate
    ca_root = lab.manifest.ca["root"]
    cert_uri, worker_uri, key_pem = _upload_and_assign(api, site, "conf01", LabCA.load(lab.manifest.ca["dir"]))
    trusted_by_lab_ca = Endpoint(conf01, 443, ca_file=ca_root)
    try:
        trusted = wait_for(lambda: tls.check_chain_trusted("lab.tls", "conf01", trusted_by_lab_ca), settle(lab))
        assert trusted.status is Status.PASS, trusted.message
        assert tls.check_key_matches("lab.tls", "conf01", Endpoint(conf01, 443), key_pem).status is Status.PASS
        names = tls.check_names("lab.tls", "conf01", Endpoint(conf01, 443), [site.conferencing_nodes[0].fqdn, conf01])
        assert names.status is Status.PASS, names.message
        other = tls.check_chain_trusted("lab.tls", "conf02", Endpoint(conf02, 443, ca_file=ca_root))
        assert other.status is Status.FAIL  # conf02 still serves its self-signed certificate
    finally:
        api.patch(f"{base(site)}{worker_uri}", json={"tls_certificate": None}, timeout=5)
        api.delete(f"{base(site)}{cert_uri}", timeout=5)


def test_conferencing_https_follows_the_tls_posture(lab: RunningLab, site: Site) -> None:
    """Anonymous DH is accepted under the wizard's default answer and refused once it is switched off."""
    conf01 = str(site.conferencing_nodes[0].address)
    assert tls.check_anon_dh_refused("lab.tls", "conf01", Endpoint(conf01, 443)).status is Status.FAIL
    with security_settings(lab, enable_anon_dh=False):
        refused = wait_for(lambda: tls.check_anon_dh_refused("lab.tls", "conf01", Endpoint(conf01, 443)), settle(lab))
        assert refused.status is Status.PASS, refused.message


def test_without_contingency_the_site_plans_no_fallback(lab: RunningLab) -> None:
    """The session's lab is started without ``--contingency``: no fallback section, no fallback watcher."""
    if lab.manifest.fallback_nodes:
        pytest.skip(f"this session's lab was started with a fallback ({CONTINGENCY_ENV} or --contingency)")
    document = yaml.safe_load(lab.site_file.read_text())
    assert "contingency" not in document
    assert lab.site().site.contingency is None
    assert "power-fallback" not in lab.manifest.parts
    # room for every node twice (a rebuild keeps the quarantined VMs beside their fresh copies), plus one
    assert document["vsphere"]["iops_budget"] == DISK_IOPS_LIMIT * (2 * len(lab.manifest.nodes) + 1)


def test_asking_a_lab_without_a_fallback_for_one_is_refused(lab: RunningLab) -> None:
    """``lab up --contingency`` next to a running lab started without it: refused with the fix, nothing started."""
    if lab.manifest.fallback_nodes:
        pytest.skip(f"this session's lab was started with a fallback ({CONTINGENCY_ENV} or --contingency)")
    with pytest.raises(LabError, match=r"without --contingency.*lab down && securemode lab up --contingency"):
        up(UpOptions(contingency=True))
    assert "power-fallback" not in read_manifest(lab.manifest.lab_dir).parts  # type: ignore[union-attr]
