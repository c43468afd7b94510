"""Many port probes of one host at once from one thread: non-blocking sockets and one selector.

The outcomes are those of :func:`~securemode.verifiers.ports.probe_tcp` and
:func:`~securemode.verifiers.ports.probe_udp` (same states, same details). A scan of 30 ports on each of
20 nodes used a thread per port, 600 threads whose start-up and hand-offs of the interpreter lock slowed
every other probe of a ``reverify``; one selector per node waits for all of its ports together.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from securemode.verifiers.ports import UNREACHABLE_ERRNOS, PortProbe, PortState, address_family


@dataclass(frozen=True)
class PortSpec:
    """A TCP port to connect to, or a UDP port and the datagram to send it (``payload``)."""

    protocol: str  # "tcp" or "udp"
    port: int
    payload: bytes = b"\0"


def sweep(host: str, specs: Sequence[PortSpec], timeout: float) -> list[PortProbe]:
    """Probe every spec at once; one result per spec, in order. Silence until ``timeout`` is FILTERED."""
    selector = selectors.DefaultSelector()
    sockets: list[socket.socket] = []
    found: dict[int, PortProbe] = {}
    t0 = time.perf_counter()
    try:
        for i, spec in enumerate(specs):
            kind = socket.SOCK_STREAM if spec.protocol == "tcp" else socket.SOCK_DGRAM
            sock = socket.socket(address_family(host), kind)
            sockets.append(sock)
            sock.setblocking(False)
            early = _start(sock, host, spec)
            if early is None:
                selector.register(sock, selectors.EVENT_WRITE if spec.protocol == "tcp" else selectors.EVENT_READ, i)
            else:
                found[i] = _probe(host, spec, early, time.perf_counter() - t0, timeout)
        deadline = t0 + timeout
        while selector.get_map() and (left := deadline - time.perf_counter()) > 0:
            for key, _events in selector.select(left):
                i = key.data
                code = _finish(sockets[i], specs[i])
                if code is None:  # nothing to read after all: keep waiting
                    continue
                selector.unregister(sockets[i])
                found[i] = _probe(host, specs[i], code, time.perf_counter() - t0, timeout)
        silent = time.perf_counter() - t0
        for key in list(selector.get_map().values()):
            found[key.data] = _probe(host, specs[key.data], errno.ETIMEDOUT, silent, timeout)
    finally:
        selector.close()
        for sock in sockets:
            sock.close()
    return [found[i] for i in range(len(specs))]


def _start(sock: socket.socket, host: str, spec: PortSpec) -> int | None:
    """Send the connect or the datagram; an outcome known at once (an errno, 0 = answered), else None."""
    if spec.protocol == "tcp":
        code = sock.connect_ex((host, spec.port))
        return None if code in (errno.EINPROGRESS, errno.EAGAIN) else code
    try:
        sock.connect((host, spec.port))
        sock.send(spec.payload)
    except OSError as exc:
        return exc.errno or errno.EIO
    return None


def _finish(sock: socket.socket, spec: PortSpec) -> int | None:
    """The outcome of a socket the selector woke: an errno, 0 for an answer, None when there was none."""
    if spec.protocol == "tcp":
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    try:
        sock.recv(2048)
    except BlockingIOError:
        return None
    except OSError as exc:
        return exc.errno or errno.EIO
    return 0


def _probe(host: str, spec: PortSpec, code: int, elapsed: float, timeout: float) -> PortProbe:
    """The probe's state from its outcome, with the details :mod:`ports` gives."""
    tcp = spec.protocol == "tcp"
    if code == 0:
        state, detail = PortState.OPEN, "connected" if tcp else "answered"
    elif code == errno.ETIMEDOUT:
        state = PortState.FILTERED
        detail = f"no answer within {timeout}s" + ("" if tcp else " (dropped, or ignored by a service)")
    elif code == errno.ECONNREFUSED:
        state = PortState.REFUSED
        detail = "ECONNREFUSED (RST or ICMP port-unreachable)" if tcp else "ICMP port-unreachable"
    elif code in UNREACHABLE_ERRNOS:
        state, detail = PortState.UNREACHABLE, errno.errorcode.get(code, str(code))
    else:
        raise OSError(code, f"{spec.protocol}/{spec.port} on {host}: {errno.errorcode.get(code, code)}")
    return PortProbe(host, spec.port, spec.protocol, state, elapsed, detail)
