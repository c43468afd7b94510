"""Persistence, concurrency, the Python state interface, and running the twin as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from securemode.infra.twin import SecuritySettings, TwinManagementNode, TwinState
from tests.lab_infra.twin.conftest import ADMIN, FAST, NodeFactory
from tests.lab_infra.twin.helpers import STATUS, Api

ROOT = Path(__file__).resolve().parents[2]


def test_restart_keeps_every_object(tmp_path: Path) -> None:
    node = TwinManagementNode(tmp_path / "s", config=FAST, admin_password=ADMIN[1]).start()
    api = Api(node.base_url, node.write_certificate(tmp_path / "pin.pem"), ADMIN)
    loc = api.create("system_location", {"name": "Persist", "mtu": 1400})
    ntp = api.create("ntp_server", {"address": "192.0.2.9", "key_id": 5, "key": "persisted-key"})
    api.patch("global/1/", {"management_session_timeout": 10, "logon_banner": "kept"})
    api.patch("management_vm/1/", {"ntp_servers": [ntp]})
    node.state.set_security_settings(SecuritySettings(fips_mode=True, enable_tls10=False, max_web_sessions=100))
    fingerprint = node.fingerprint_sha256()
    before = {r: api.objects(r) for r in ("system_location", "ntp_server", "role", "permission", "tls_certificate")}
    node.stop()

    again = TwinManagementNode(tmp_path / "s", config=FAST).start()  # no password needed: state exists
    api2 = Api(again.base_url, again.write_certificate(tmp_path / "pin2.pem"), ADMIN)
    assert {r: api2.objects(r) for r in before} == before
    assert api2.get(loc).json()["mtu"] == 1400
    assert api2.get("global/1/").json()["logon_banner"] == "kept"
    assert api2.get("management_vm/1/").json()["ntp_servers"][0]["resource_uri"] == ntp
    assert again.state.security_settings().fips_mode is True
    assert again.fingerprint_sha256() == fingerprint
    assert again.state.node_config("mgr.example.test")["ntp_servers"][0]["key"] == "persisted-key"  # type:
                                                                                                    # ignore[index]
    new = api2.create("system_location", {"name": "After"})
    assert int(new.rstrip("/").rsplit("/", 1)[1]) == int(loc.rstrip("/").rsplit("/", 1)[1]) + 1
    again.stop()


def test_concurrent_writes_are_safe(make_twin: NodeFactory, tmp_path: Path) -> None:
    node = make_twin()
    pin = node.write_certificate(tmp_path / "pin.pem")

    def work(i: int) -> tuple[int, int]:
        api = Api(node.base_url, pin, ADMIN)
        created = api.post("dns_server/", {"address": f"198.51.100.{i}"}).status_code
        patched = api.patch("global/1/", {"management_qos": i % 64}).status_code
        api.close()
        return created, patched

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(40)))
    assert results == [(201, 202)] * 40
    objects = Api(node.base_url, pin, ADMIN).objects("dns_server")
    assert len(objects) == 40
    assert len({o["id"] for o in objects}) == 40


def test_python_interface_for_console_and_node_processes(make_twin: NodeFactory, tmp_path: Path) -> None:
    node = make_twin(dns_servers=("192.0.2.53", "192.0.2.54"), ntp_servers=("192.0.2.123",))
    settings = node.state.security_settings()
    assert settings == SecuritySettings()  # the guide's bracketed defaults
    assert (settings.enable_tls10, settings.accept_multicast_icmpv6_echo, settings.enable_anon_dh) == (True, True, True)
    assert (settings.sip_udp_port, settings.sip_tls_port, settings.max_web_sessions) == (5060, 5061, 0)
    wizard = node.state.install_wizard()
    assert (wizard.incident_reporting, wizard.send_statistics, wizard.completed) == (False, False, True)
    assert "pbkdf2_sha256$" in wizard.web_admin_password_hash and ADMIN[1] not in repr(wizard)
    node.state.set_install_wizard(wizard.updated(incident_reporting=True, contact_email_address="soc@example.test"))
    assert node.state.global_settings()["error_reporting_enabled"] is True
    mgr = node.state.management_vm()
    assert [d["address"] for d in mgr["dns_servers"]] == ["192.0.2.53", "192.0.2.54"]
    api = Api(node.base_url, node.write_certificate(tmp_path / "pin.pem"), ADMIN)
    api.patch(
        "management_vm/1/",
        {
            "snmp_mode": "AUTHPRIV",
            "snmp_username": "snmpro",
            "snmp_authentication_password": "AuthPass123",
            "snmp_privacy_password": "PrivPass123",
        },
    )
    config = node.state.node_config(mgr["name"])
    assert config is not None
    assert (config["snmp_mode"], config["snmp_privacy_password"]) == ("AUTHPRIV", "PrivPass123")
    assert config["tls"][1].startswith("-----BEGIN PRIVATE KEY-----")
    # a second process can read the same state while the node runs
    reader = TwinState(node.state.state_dir, readonly=True)
    assert reader.management_vm()["snmp_mode"] == "AUTHPRIV"
    reader.close()
    node.state.report_node_status("cn-x", sync_status="SYNCING")
    alarm = node.state.raise_alarm("Connectivity lost", "cn-x unreachable", node="192.0.2.40")
    assert api.get(STATUS + "alarm/").json()["objects"][0]["id"] == alarm
    node.state.clear_alarm(alarm)
    assert api.get(STATUS + "alarm/").json()["objects"] == []
    assert any(e["action"] == "update" for e in node.state.audit_events())


def test_runs_as_a_process_and_stops_by_pid(tmp_path: Path) -> None:
    env = {**os.environ, "TWIN_ADMIN_PASSWORD": ADMIN[1], "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "securemode.infra.twin",
            "--state-dir",
            str(tmp_path / "p"),
            "--port",
            "0",
            "--pid-file",
            str(tmp_path / "twin.pid"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["pid"] == proc.pid
        assert int((tmp_path / "twin.pid").read_text()) == proc.pid
        pin = tmp_path / "pin.pem"
        pin.write_text(TwinState(tmp_path / "p",
        readonly=True).tls_identity({"tls_certificate": 1})[0])  # type: ignore[index]
        assert Api(ready["base_url"], pin, ADMIN).get("global/1/").status_code == 200
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not (tmp_path / "twin.pid").exists()
    assert ADMIN[1].encode() not in (proc.stderr.read() if proc.stderr else b"")
