"""The SIP signalling listeners of a twin node: UDP and TCP 5060, TLS 5061 (ports from the wizard).

Answers OPTIONS with 200 OK (see :mod:`securemode.infra.nodes.sip_message`). The TLS listener serves the node's
assigned certificate with the posture of :mod:`securemode.infra.nodes.tls_posture`; without a certificate the
TLS port is not opened (GUESS: a real node always has at least its self-signed certificate).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from securemode.infra.netns import NetNamespace
from securemode.infra.nodes import sip_message
from securemode.infra.nodes.loop_thread import LoopThread
from securemode.infra.nodes.tls_posture import TlsPosture, server_context

_READ_TIMEOUT_S = 30.0


class SipListenerSettings(BaseModel):
    """Security-wizard SIP ports (0 = any free port, kept across reconfigures; None = closed) and TLS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sip_udp_port: int | None = Field(default=5060, ge=0, le=65535)
    sip_tcp_port: int | None = Field(default=5060, ge=0, le=65535)
    sip_tls_port: int | None = Field(default=5061, ge=0, le=65535)
    tls: TlsPosture | None = None


class SipListener:
    """SIP on ``address`` for one node; :attr:`ports` holds the bound ports per transport."""

    def __init__(
        self,
        hostname: str,
        address: str,
        settings: SipListenerSettings | None = None,
        netns: NetNamespace | None = None,
    ) -> None:
        self.hostname = hostname
        self.address = address
        self.settings = settings or SipListenerSettings()
        self.ports: dict[str, int] = {}
        self._netns = netns
        self._loop = LoopThread(f"sip-{hostname}")
        self._servers: list[asyncio.AbstractServer] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._remembered: dict[str, int] = {}  # transport -> port picked for a requested port 0

    def __repr__(self) -> str:
        return f"SipListener({self.hostname!r}, {self.address}, ports={self.ports})"

    def start(self) -> None:
        self._loop.start()
        self._loop.call(self._open())

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call(self._close())
        self._loop.stop()

    def reconfigure(self, settings: SipListenerSettings) -> None:
        """Apply new ports / TLS posture: listeners are closed and reopened (existing calls drop)."""
        if settings.tls is not None:
            server_context(settings.tls)  # raises TlsPostureError before anything is closed
        self.settings = settings
        with contextlib.suppress(RuntimeError):
            self._loop.call(self._close())
            self._loop.call(self._open())

    async def _open(self) -> None:
        s = self.settings
        if s.sip_udp_port is not None:
            sock = self._bind(socket.SOCK_DGRAM, self._port_for("udp", s.sip_udp_port))
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(lambda: _SipDatagram(), sock=sock)
            self._udp = transport
            self._record("udp", s.sip_udp_port, sock)
        if s.sip_tcp_port is not None:
            await self._serve_stream("tcp", s.sip_tcp_port, None)
        if s.sip_tls_port is not None and s.tls is not None:
            await self._serve_stream("tls", s.sip_tls_port, server_context(s.tls))

    async def _serve_stream(self, transport: str, port: int, ctx: ssl.SSLContext | None) -> None:
        sock = self._bind(socket.SOCK_STREAM, self._port_for(transport, port))
        sock.listen(128)
        if ctx is None:
            server = await asyncio.start_server(_handle_stream, sock=sock)
        else:
            server = await asyncio.start_server(_handle_stream, sock=sock, ssl=ctx, ssl_handshake_timeout=10)
        self._servers.append(server)
        self._record(transport, port, sock)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        self._servers.clear()
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        self.ports = {}

    def _port_for(self, transport: str, requested: int) -> int:
        return self._remembered.get(transport, 0) if requested == 0 else requested

    def _record(self, transport: str, requested: int, sock: socket.socket) -> None:
        bound = int(sock.getsockname()[1])
        self.ports[transport] = bound
        if requested == 0:
            self._remembered[transport] = bound

    def _bind(self, kind: int, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = self._netns.socket(family, kind) if self._netns else socket.socket(family, kind)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock


async def _handle_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve SIP requests on one TCP/TLS connection until the peer closes it."""
    peer = writer.get_extra_info("peername")
    peer_host = str(peer[0]) if peer else ""
    buffer = b""
    try:
        while True:
            split = sip_message.split_head(buffer)
            if split is None:
                chunk = await asyncio.wait_for(reader.read(65536), _READ_TIMEOUT_S)
                if not chunk:
                    return
                buffer += chunk
                continue
            head, rest = split
            request = sip_message.parse_request(head)
            length = sip_message.content_length(request)
            while len(rest) < length:
                chunk = await asyncio.wait_for(reader.read(65536), _READ_TIMEOUT_S)
                if not chunk:
                    return
                rest += chunk
            request.body, buffer = rest[:length], rest[length:]
            answer = sip_message.response_for(request, peer_host)
            if answer:
                writer.write(answer)
                await writer.drain()
    except sip_message.SipParseError as exc:
        writer.write(sip_message.bad_request(str(exc)))
        with contextlib.suppress(OSError):
            await writer.drain()
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class _SipDatagram(asyncio.DatagramProtocol):
    """SIP over UDP: one request per datagram."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            split = sip_message.split_head(data)
            if split is None:
                raise sip_message.SipParseError("no end of headers")
            head, body = split
            answer = sip_message.response_for(sip_message.parse_request(head, body), str(addr[0]))
        except sip_message.SipParseError as exc:
            answer = sip_message.bad_request(str(exc))
        if answer:
            self.transport.sendto(answer, addr)
