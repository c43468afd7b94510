"""The SNMP agent follows snmp_mode; checked with net-snmp's snmpget, an independent client."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from securemode.infra.nodes import SnmpAgent, SnmpAgentSettings, SnmpMode

SYS_DESCR, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION = (f".1.3.6.1.2.1.1.{i}.0" for i in (1, 3, 4, 5, 6))
AUTHPRIV = SnmpAgentSettings(
    snmp_mode=SnmpMode.AUTHPRIV,
    snmp_username="monitor",
    snmp_authentication_password="AuthSecret-1",
    snmp_privacy_password="PrivSecret-1",
    snmp_system_contact="noc@lab.test",
    snmp_system_location="Rack 7",
)
STANDARD = SnmpAgentSettings(snmp_mode=SnmpMode.STANDARD, snmp_community="s1te-c0mm")

pytestmark = pytest.mark.skipif(shutil.which("snmpget") is None, reason="net-snmp 'snmpget' not installed")


@pytest.fixture
def agent() -> Iterator[SnmpAgent]:
    a = SnmpAgent("conf01.lab.test", "127.0.0.1", 0, AUTHPRIV, sys_descr="Pexip twin test node")
    a.start()
    yield a
    a.stop()


def snmpget(port: int, *args: str, oids: tuple[str, ...] = (SYS_NAME,), tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=str(tmp))
    return subprocess.run(
        ["snmpget", "-On", "-t", "0.4", "-r", "0", *args, f"127.0.0.1:{port}", *oids],
        capture_output=True,
        text=True,
        env=env,
        timeout=10,
        check=False,
    )


def v3(
    port: int, tmp: Path, auth: str = "AuthSecret-1", priv: str = "PrivSecret-1", **kw: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    creds = ["-v3", "-l", "authPriv", "-u", "monitor", "-a", "SHA", "-A", auth, "-x", "AES", "-X", priv]
    return snmpget(port, *creds, tmp=tmp, **kw)


def test_authpriv_serves_the_system_group(agent: SnmpAgent, tmp_path: Path) -> None:
    out = v3(agent.port, tmp_path, oids=(SYS_DESCR, SYS_CONTACT, SYS_NAME, SYS_LOCATION, SYS_UPTIME))
    assert out.returncode == 0, out.stderr
    assert f'{SYS_NAME} = STRING: "conf01.lab.test"' in out.stdout
    assert f'{SYS_CONTACT} = STRING: "noc@lab.test"' in out.stdout
    assert f'{SYS_LOCATION} = STRING: "Rack 7"' in out.stdout
    assert f'{SYS_DESCR} = STRING: "Pexip twin test node"' in out.stdout
    assert f"{SYS_UPTIME} = Timeticks:" in out.stdout


def test_authpriv_refuses_communities_and_wrong_keys(agent: SnmpAgent, tmp_path: Path) -> None:
    assert "Timeout" in snmpget(agent.port, "-v2c", "-c", "public", tmp=tmp_path).stderr
    assert "Timeout" in snmpget(agent.port, "-v1", "-c", "public", tmp=tmp_path).stderr
    wrong_auth = v3(agent.port, tmp_path, auth="NotTheKey-9")
    assert wrong_auth.returncode != 0 and "Authentication failure" in wrong_auth.stderr
    wrong_user = snmpget(
        agent.port,
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "intruder",
        "-a",
        "SHA",
        "-A",
        "AuthSecret-1",
        "-x",
        "AES",
        "-X",
        "PrivSecret-1",
        tmp=tmp_path,
    )
    assert wrong_user.returncode != 0 and "Unknown user name" in wrong_user.stderr
    no_priv = snmpget(
        agent.port, "-v3", "-l", "authNoPriv", "-u", "monitor", "-a", "SHA", "-A", "AuthSecret-1", tmp=tmp_path
    )
    assert no_priv.returncode != 0


def test_reconfigure_follows_snmp_mode_on_the_same_port(agent: SnmpAgent, tmp_path: Path) -> None:
    port = agent.port
    agent.reconfigure(STANDARD)
    assert agent.port == port
    answer = snmpget(port, "-v2c", "-c", "s1te-c0mm", tmp=tmp_path)
    assert answer.returncode == 0 and '"conf01.lab.test"' in answer.stdout
    assert snmpget(port, "-v1", "-c", "s1te-c0mm", tmp=tmp_path).returncode == 0
    assert "Timeout" in snmpget(port, "-v2c", "-c", "public", tmp=tmp_path).stderr
    assert v3(port, tmp_path).returncode != 0  # the v3 user is gone in STANDARD mode

    agent.reconfigure(SnmpAgentSettings(snmp_mode=SnmpMode.DISABLED))
    assert not agent.answering
    assert "Timeout" in snmpget(port, "-v2c", "-c", "s1te-c0mm", tmp=tmp_path).stderr

    agent.reconfigure(AUTHPRIV)
    assert agent.answering and v3(port, tmp_path).returncode == 0


def test_uptime_counts_from_agent_start(agent: SnmpAgent, tmp_path: Path) -> None:
    def ticks() -> int:
        out = v3(agent.port, tmp_path, oids=(SYS_UPTIME,)).stdout
        return int(out.split("(", 1)[1].split(")", 1)[0])

    first = ticks()
    agent.reconfigure(AUTHPRIV)  # restart: uptime starts again
    assert ticks() <= first + 50


def test_settings_validate_and_hide_secrets() -> None:
    with pytest.raises(ValidationError, match="snmp_username is required"):
        SnmpAgentSettings(
            snmp_mode=SnmpMode.AUTHPRIV, snmp_authentication_password="x" * 8, snmp_privacy_password="y" * 8
        )
    with pytest.raises(ValidationError, match="8-100"):
        SnmpAgentSettings(
            snmp_mode=SnmpMode.AUTHPRIV,
            snmp_username="u",
            snmp_authentication_password="short",
            snmp_privacy_password="y" * 8,
        )
    with pytest.raises(ValidationError):
        SnmpAgentSettings(snmp_community="x" * 17)
    text = repr(AUTHPRIV) + str(AUTHPRIV.model_dump()) + repr(STANDARD)
    assert "AuthSecret-1" not in text and "PrivSecret-1" not in text and "s1te-c0mm" not in text
