"""A console server on a fresh twin state folder, the engine's pins for it, and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from securemode.console.answers import InstallAnswers
from securemode.console.client import ConsoleClient, ConsoleEndpoint
from securemode.console.pins import HostKeyPins
from securemode.infra.console import ConsoleServer
from securemode.infra.twin import TwinConfig

FAST = TwinConfig(self_signed_key_bits=2048, password_hash_iterations=1000)
CONSOLE_PASSWORD = "C0nsole-Secret-77"
WEB_PASSWORD = "Web-Secret-88"
# The guide's table, in its order.
GUIDE_ANSWERS: dict[str, bool | int] = {
    "fips": True, "disable-admin": True, "icmpv6-redirects": False, "drop-closed-ports": True,
    "icmpv6-multicast-echo": False, "ipv6-dad": False, "sip-udp-port": 5060, "sip-tcp-port": 5060,
    "sip-tls-port": 5061, "web-sessions": 100, "web-sessions-per-user": 10, "host-headers": True, "tls10": False,
    "anon-dh": False,
}

ServerFactory = Callable[..., ConsoleServer]


def install_answers(**changes: object) -> InstallAnswers:
    base: dict[str, object] = {
        "address": "127.0.0.1", "netmask": "255.0.0.0", "gateway": "127.0.0.1", "hostname": "mgr01",
        "domain": "example.test", "dns_servers": ("127.0.0.53", "127.0.0.54"),
        "ntp_servers": ("127.0.0.123", "ntp2.example.test"), "web_username": "admin",
        "web_password": SecretStr(WEB_PASSWORD),
    }
    base.update(changes)
    return InstallAnswers(**base)  # type: ignore[arg-type]


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[ServerFactory]:
    started: list[ConsoleServer] = []

    def make(state_dir: Path | None = None, **kw: object) -> ConsoleServer:
        kw.setdefault("config", FAST)
        kw.setdefault("reboot_delay_s", 0.2)
        server = ConsoleServer(state_dir or tmp_path / "node", "127.0.0.1", 0, **kw).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: ServerFactory) -> ConsoleServer:
    return make_server()


@pytest.fixture
def pins(tmp_path: Path, server: ConsoleServer) -> HostKeyPins:
    store = HostKeyPins(tmp_path / "known_hosts")
    store.pin("127.0.0.1", server.port, server.host_public_key())
    return store


def client_for(server: ConsoleServer, pins: HostKeyPins, password: str = CONSOLE_PASSWORD) -> ConsoleClient:
    return ConsoleClient(ConsoleEndpoint("127.0.0.1", server.port), SecretStr(password), pins,
                         prompt_timeout_s=5, connect_timeout_s=5)


@pytest.fixture
def client(server: ConsoleServer, pins: HostKeyPins) -> ConsoleClient:
    return client_for(server, pins)


def installed(server: ConsoleServer, client: ConsoleClient) -> None:
    """Run the installation wizard and wait for the reboot to finish."""
    client.run_install_wizard(install_answers())
    assert server.wait_until_up(30)
