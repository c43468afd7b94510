"""A TCP relay from a listener inside the lab namespace to a service on loopback (bytes only).

The Management Node twin's HTTPS and the console's SSH listen on the node's loopback address; the
relay makes them answer on the node's namespace address too, so closed-port probes there see the
open ports open. TLS and SSH pass through untouched (end to end between the client and the twin).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from securemode.infra.netns import NetNamespace
from securemode.infra.nodes.loop_thread import LoopThread

_CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


class TcpRelay:
    """Listen on ``listen`` (inside ``netns``) and connect each client to ``target`` (root namespace)."""

    def __init__(self, netns: NetNamespace, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.netns = netns
        self.listen = listen
        self.target = target
        self._loop = LoopThread(f"relay-{listen[0]}:{listen[1]}")
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> None:
        self._loop.start()
        self._loop.call(self._open())

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call(self._close())
        self._loop.stop()

    async def _open(self) -> None:
        sock = self.netns.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(self.listen)
        sock.listen(64)
        sock.setblocking(False)
        self._server = await asyncio.start_server(self._serve, sock=sock)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 5)
        except (OSError, TimeoutError):
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
