"""The powered-off proof against vcsim and real sockets: PASS only when vSphere reads the VM off and nothing
answers at its address; FAIL when it is on or suspended or when a port answers; ERROR when vSphere cannot
say (no such VM, the host gone)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from securemode.infra.vcsim import VcsimOptions, start_vcsim
from securemode.infra.vcsim.pytest_fixtures import run_task
from securemode.results import Status
from securemode.verifiers.vsphere import VSphereConnection, check_powered_off, readonly_session
from tests.vsphere_power.conftest import connection_to

CONTROL = "contingency.powered-off"


def verify(connection: VSphereConnection, vm_name: str, address: str, **kwargs: Any) -> Any:
    with readonly_session(connection, []) as reader:
        return check_powered_off(CONTROL, vm_name, reader, vm_name, address, **kwargs)


@pytest.fixture
def off_vm(vms: dict[str, Any]) -> str:
    name = sorted(vms)[0]
    run_task(vms[name].PowerOffVM_Task())
    return name


@pytest.fixture
def tcp_listener(address: str) -> Iterator[int]:
    """A TCP port at ``address`` that completes handshakes (the kernel's backlog answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((address, 0))
        server.listen(4)
        yield server.getsockname()[1]


@pytest.fixture
def udp_responder(address: str) -> Iterator[int]:
    """A UDP port at ``address`` that answers every datagram (as a SIP stack answers OPTIONS)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((address, 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = server.recvfrom(4096)
            except TimeoutError:
                continue
            if data.startswith(b"OPTIONS "):
                server.sendto(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()


def test_pass_when_vsphere_reads_off_and_nothing_answers(
    connection: VSphereConnection, off_vm: str, address: str
) -> None:
    result = verify(connection, off_vm, address)
    assert result.status is Status.PASS, result.message
    assert result.observed["powerState"] == "poweredOff"
    probed = {(p["port"], p["state"]) for p in result.observed["probes"]}
    assert probed == {
        ("tcp/22", "refused"),
        ("tcp/443", "refused"),
        ("tcp/5060", "refused"),
        ("tcp/5061", "refused"),
        ("udp/5060", "refused"),
    }


@pytest.mark.parametrize("state", ["poweredOn", "suspended"])
def test_fail_when_the_vm_is_not_off(
    connection: VSphereConnection, vms: dict[str, Any], address: str, state: str
) -> None:
    name = sorted(vms)[1]
    if state == "suspended":
        run_task(vms[name].SuspendVM_Task())
    result = verify(connection, name, address)
    assert result.status is Status.FAIL
    assert f"is {state}" in result.message and "must stay powered off until a failover" in result.message


def test_fail_naming_the_tcp_port_that_answers(
    connection: VSphereConnection, off_vm: str, address: str, tcp_listener: int
) -> None:
    result = verify(connection, off_vm, address, ports=(22, 443, tcp_listener))
    assert result.status is Status.FAIL
    assert f"answers on tcp/{tcp_listener}" in result.message and "tcp/22" not in result.message


def test_fail_when_sip_options_over_udp_draws_an_answer(
    connection: VSphereConnection, off_vm: str, address: str, udp_responder: int
) -> None:
    result = verify(connection, off_vm, address, ports=(443,), sip_udp_port=udp_responder)
    assert result.status is Status.FAIL
    assert f"answers on udp/{udp_responder}" in result.message


def test_error_for_a_vm_vsphere_does_not_have(connection: VSphereConnection, vms: dict[str, Any], address: str) -> None:
    result = verify(connection, "conf09-c", address)
    assert result.status is Status.ERROR
    assert "VM conf09-c does not exist" in result.message


def test_error_never_pass_when_vsphere_stops_answering(vcsim_binary: Any, address: str) -> None:
    sim = start_vcsim(VcsimOptions(vms=1, autostart=False), binary=vcsim_binary)
    try:
        with readonly_session(connection_to(sim), []) as reader:
            [name] = [vm.name for vm in reader.host_vms]
            sim.stop()
            result = check_powered_off(CONTROL, name, reader, name, address)
    finally:
        sim.stop()
    assert result.status is Status.ERROR, result.message
    assert result.message.startswith(f"vSphere could not be read for VM {name}: ")


def test_error_when_no_port_is_given_to_probe(connection: VSphereConnection, off_vm: str, address: str) -> None:
    result = verify(connection, off_vm, address, ports=(), sip_udp_port=None)
    assert result.status is Status.ERROR and "no port to probe" in result.message
