"""A Conferencing Node's HTTPS listener (443): the node's certificate and TLS posture, minimal HTTP.

The Management Node's 443 is the twin itself; a conferencing node's web side (the web app a browser
meets) only has to show what a TLS client sees: the certificate assigned to the node (its self-signed
one before that) and the security wizard's posture (:func:`securemode.infra.nodes.tls_posture.server_context`).
HTTP is answered just enough for a client to finish a request: ``/`` redirects to ``/webapp/``
(GUESS: as a real node's root does), every other path gets a tiny 200 page.

One listening socket for the listener's life: each accepted connection is upgraded with the context
in effect at that moment, so :meth:`HttpsListener.reconfigure` never closes the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from typing import TypeVar

from securemode.infra.netns import NetNamespace
from securemode.infra.nodes.loop_thread import LoopThread
from securemode.infra.nodes.tls_posture import TlsPosture, server_context

_HANDSHAKE_TIMEOUT_S = 10.0
_READ_TIMEOUT_S = 10.0
_MAX_HEAD = 16384
T = TypeVar("T")
PAGE = b"<!doctype html><title>Pexip Infinity</title><p>Pexip Infinity Conferencing Node (securemode lab twin)</p>\n"


def response_for(head: bytes) -> bytes:
    """The HTTP/1.1 answer to one request head (pure)."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    path = parts[1] if len(parts) >= 2 else b"/"
    if path.split(b"?", 1)[0] == b"/":
        return (b"HTTP/1.1 302 Found\r\nLocation: /webapp/\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n")
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(len(PAGE)).encode() + b"\r\nConnection: close\r\n\r\n" + PAGE)


class HttpsListener:
    """HTTPS on ``address:port`` (inside ``netns`` when given) with ``posture``."""

    def __init__(self, hostname: str, address: str, port: int, posture: TlsPosture,
                 netns: NetNamespace | None = None) -> None:
        self.hostname = hostname
        self.address = address
        self.port = port
        self._netns = netns
        self._context = server_context(posture)  # raises TlsPostureError for a broken certificate
        self._loop = LoopThread(f"https-{hostname}")
        self._server: asyncio.AbstractServer | None = None

    def __repr__(self) -> str:
        return f"HttpsListener({self.hostname!r}, {self.address}:{self.port})"

    def start(self) -> None:
        self._loop.start()
        self._loop.call(self._open())

    def reconfigure(self, posture: TlsPosture) -> None:
        """Serve ``posture`` from the next connection on (raises before changing anything if it is broken)."""
        self._context = server_context(posture)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call(self._close())
        self._loop.stop()

    async def _open(self) -> None:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = self._netns.socket(family, socket.SOCK_STREAM) if self._netns else socket.socket(family,
                                                                                                  socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._server = await asyncio.start_server(self._serve, sock=sock, limit=_MAX_HEAD)
        self.port = int(sock.getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """TLS over a memory BIO, so a failed handshake still sends OpenSSL's alert (``protocol_version``
        to a TLS 1.0 ClientHello) before the close — as the Management Node and any OpenSSL server do.
        (asyncio's own ``start_tls`` drops the connection without flushing that alert.)"""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)
        try:
            await asyncio.wait_for(_pump(tls.do_handshake, tls, incoming, outgoing, reader, writer),
                                   _HANDSHAKE_TIMEOUT_S)
            head = await asyncio.wait_for(_read_head(tls, incoming, outgoing, reader, writer), _READ_TIMEOUT_S)
            tls.write(response_for(head))
            writer.write(outgoing.read())
            await writer.drain()
        except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass  # probes that stop after the handshake, or refused protocol versions: routine
        finally:
            with contextlib.suppress(Exception):
                pending = outgoing.read()  # the alert of a refused handshake, if any
                if pending:
                    writer.write(pending)
                    await writer.drain()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _pump(step: Callable[[], T], tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> T:
    """Run one TLS operation to completion, moving bytes between the socket and the memory BIOs."""
    while True:
        try:
            return step()
        except ssl.SSLWantReadError:
            data = outgoing.read()
            if data:
                writer.write(data)
                await writer.drain()
            chunk = await reader.read(65536)
            if not chunk:
                incoming.write_eof()
                return step()  # raises: the peer went away mid-operation
            incoming.write(chunk)


async def _read_head(tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Decrypted bytes up to the end of an HTTP request head."""
    head = b""
    while b"\r\n\r\n" not in head:
        if len(head) > _MAX_HEAD:
            raise ValueError("request head too large")
        data = await _pump(lambda: tls.read(65536), tls, incoming, outgoing, reader, writer)
        if not data:
            raise ValueError("the client closed before the end of its request head")
        head += data
    return head
