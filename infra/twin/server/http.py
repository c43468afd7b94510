"""Threaded HTTPS server: accept plain TCP, then handshake in the worker thread with the context the
current state calls for (so posture changes apply per connection and a slow client blocks no one)."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from securemode.infra.twin.request import Request
from securemode.infra.twin.response import Response
from securemode.infra.twin.server.dispatch import Dispatcher, Reset
from securemode.infra.twin.server.tls import TlsContexts

log = logging.getLogger("securemode.infra.twin.http")
MAX_BODY = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 30.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle holds the body back for the
    # client's delayed ACK, about 40 ms a response.
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""

    def version_string(self) -> str:
        return "nginx"

    server: TwinHTTPServer

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    def _run(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length > 0 else b""
        der = None
        if isinstance(self.connection, ssl.SSLSocket):
            der = self.connection.getpeercert(binary_form=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request.build(self.command, self.path, headers, body, der, self.client_address[0])
        req.connection = self.__dict__.setdefault("connection_state", {})
        result = self.server.dispatcher.handle(req)
        if isinstance(result, Reset):
            self._reset()
            return
        self._send(result, head_only=self.command == "HEAD")

    def _send(self, resp: Response, head_only: bool) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        if resp.body or resp.status not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Strict-Transport-Security", "max-age=31536000")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if not head_only and resp.body:
            self.wfile.write(resp.body)

    def _reset(self) -> None:
        """SO_LINGER 0 then close: the peer sees a TCP RST (ECONNRESET)."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _run

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.command, self.path.partition("?")[0], code)


class TwinHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, contexts: TlsContexts) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.dispatcher = dispatcher
        self.contexts = contexts
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's thread: TLS handshake with the current posture, then HTTP."""
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            tls = self.contexts.current().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("handshake failed from %s: %s", client_address[0], exc)
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            tls.settimeout(IDLE_TIMEOUT_S)
            _Handler(tls, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(tls)
            with contextlib.suppress(OSError):
                tls.close()

    def close_connections(self) -> None:
        with self._open_lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
