"""A fallback VM is off, shown twice: vSphere says it is powered off, and nothing answers at its address.

vSphere's word alone could hide a clone or a stale inventory while the node still serves; silence alone
could be a firewall in front of a running node. Together they show the fallback is truly off.

"Nothing answers" means no TCP handshake completes on any of the node's ports (SSH, HTTPS, SIP TCP/TLS by
default) and no datagram comes back to a SIP OPTIONS on its SIP UDP port. A refusal (RST, ICMP
port-unreachable), an unreachable host and silence all count as not answering: on the lab's loopback
addresses a powered-off node gives RST, on a real network silence or host-unreachable. The evidence keeps
each probe's state and timing, so a reader can tell which it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from securemode.parallel import run_bounded
from securemode.results import JsonValue, Probe, Result, probe
from securemode.verifiers.port_scan import sip_options_datagram
from securemode.verifiers.ports import PortProbe, PortState, probe_tcp, probe_udp
from securemode.verifiers.vsphere.reader import HostReader
from securemode.vsphere.power import POWERED_OFF

FALLBACK_TCP_PORTS = (22, 443, 5060, 5061)
SIP_UDP_PORT = 5060
DEFAULT_TIMEOUT_S = 1.0


def check_powered_off(
    control: str,
    target: str,
    reader: HostReader,
    vm_name: str,
    address: str,
    ports: Sequence[int] = FALLBACK_TCP_PORTS,
    sip_udp_port: int | None = SIP_UDP_PORT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Result:
    """PASS when vSphere says VM ``vm_name`` is powered off and nothing at ``address`` answers: no TCP
    handshake on ``ports``, no reply to a SIP OPTIONS on UDP ``sip_udp_port`` (None: no UDP probe).

    FAIL when the VM is on or suspended, or when a port answers (named). ERROR when vSphere cannot be read
    or has no such VM: the power state is then unknown, whatever the network shows."""
    answering = [f"tcp/{p}" for p in ports] + ([f"udp/{sip_udp_port} SIP OPTIONS"] if sip_udp_port is not None else [])
    expected: JsonValue = {"powerState": POWERED_OFF, "answering": [], "probed": answering}
    with probe(control, target, expected=expected) as p:
        _judge(p, reader, vm_name, address, ports, sip_udp_port, timeout_s)
    return p.result


def _judge(
    p: Probe,
    reader: HostReader,
    vm_name: str,
    address: str,
    ports: Sequence[int],
    sip_udp_port: int | None,
    timeout_s: float,
) -> None:
    if not ports and sip_udp_port is None:
        p.error("no port to probe: that nothing answers at the address cannot be shown")
        return
    p.log(f"vSphere: find VM {vm_name}")
    try:
        vm = reader.vm_now(vm_name)
    except Exception as exc:  # any failure to read leaves the power state unknown: ERROR, never PASS
        p.error(f"vSphere could not be read for VM {vm_name}: {type(exc).__name__}: {exc}")
        return
    if vm is None:
        p.error(f"VM {vm_name} does not exist in vSphere: its power state cannot be shown")
        return
    if vm.runtime is None or vm.runtime.powerState is None:
        p.error(f"vSphere gave no power state for VM {vm_name}")
        return
    state = str(vm.runtime.powerState)
    p.log(f"vSphere: VM {vm_name} is {state}")
    if state != POWERED_OFF:
        p.failed(
            {"powerState": state}, f"VM {vm_name} is {state}: a fallback VM must stay powered off until a failover"
        )
        return
    probes = _probe_address(address, ports, sip_udp_port, timeout_s)
    for one in probes:
        p.log(one.line())
    observed: dict[str, JsonValue] = {"powerState": state, "probes": [one.evidence() for one in probes]}
    answered = [f"{one.protocol}/{one.port}" for one in probes if one.state is PortState.OPEN]
    p.check(
        not answered,
        observed,
        f"VM {vm_name} reads powered off, but {address} answers on {', '.join(answered)}: "
        "something still serves the fallback's address",
    )


def _probe_address(address: str, ports: Sequence[int], sip_udp_port: int | None, timeout_s: float) -> list[PortProbe]:
    """Every port at once: a TCP connect each, and a SIP OPTIONS datagram (OPEN: a datagram came back)."""
    calls: list[Callable[[], PortProbe]] = [partial(probe_tcp, address, port, timeout_s) for port in ports]
    if sip_udp_port is not None:
        calls.append(partial(_sip_udp, address, sip_udp_port, timeout_s))
    return run_bounded(calls, len(calls), "power-off-probe")


def _sip_udp(address: str, port: int, timeout_s: float) -> PortProbe:
    return probe_udp(address, port, sip_options_datagram(address, port), timeout_s)
