"""ConsoleServer: the SSH admin console of a twin node (asyncssh, in-process, start()/stop()).

Login is as ``admin`` only. With no console password yet, the login needs none and the session makes
the user set one (guide step 2); afterwards password authentication is required. Each wizard ends by
"rebooting": the session closes, the listener goes away for ``reboot_delay_s``, the node applies the
pending answers (:meth:`ConsoleNode.boot`), ``on_reboot`` is told (the lab restarts the node's HTTPS
side there), and the listener comes back on the same address and port. Once a boot has applied
"Disable system administrator account" = YES, every login is refused for good [?: a real node may
instead stop its SSH service; either way no admin login gets in].

The host key (ed25519) lives in ``<state dir>/console/`` and survives restarts, like a node's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import asyncssh

from securemode.infra.console import prompts
from securemode.infra.console.node import BootReport, ConsoleNode
from securemode.infra.console.session import ConsoleSession, SessionEnd
from securemode.infra.console.terminal import Terminal
from securemode.infra.nodes.loop_thread import LoopThread
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.state.twin_state import TwinState

log = logging.getLogger("securemode.infra.console")

HOST_KEY_NAME = "ssh_host_ed25519_key"


def load_or_create_host_key(directory: Path) -> asyncssh.SSHKey:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / HOST_KEY_NAME
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.touch(mode=0o600)
    key.write_private_key(str(path))
    return key


class _Login(asyncssh.SSHServer):
    """Authentication for one connection: admin only, password once one is set, nobody once locked."""

    def __init__(self, node: ConsoleNode, connections: set[asyncssh.SSHServerConnection]) -> None:
        self._node = node
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        if username != prompts.ADMIN_USER or self._node.locked_out():
            return True  # authentication required, and nothing will satisfy it
        return self._node.password_set()

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        if username != prompts.ADMIN_USER:
            return False
        if self._node.locked_out():
            self._node.store.audit("admin", "console_login_refused", "system administrator account disabled")
            return False
        ok = self._node.check_password(password)
        if not ok:
            self._node.store.audit("admin", "console_login_failed", "wrong console password")
        return ok


class ConsoleServer:
    """The console of one node, on ``address:port`` (port 0 picks a free port, kept across reboots)."""

    def __init__(
        self,
        state: TwinState | Path | str,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        config: TwinConfig | None = None,
        reboot_delay_s: float = 1.0,
        idle_timeout_s: float = 600.0,
        on_reboot: Callable[[BootReport], None] | None = None,
    ) -> None:
        self._owns_state = not isinstance(state, TwinState)
        self.state = state if isinstance(state, TwinState) else TwinState(state, config)
        self.node = ConsoleNode(self.state)
        self.address = address
        self._port = port
        self.reboot_delay_s = reboot_delay_s
        self.idle_timeout_s = idle_timeout_s
        self.on_reboot = on_reboot
        self.host_key = load_or_create_host_key(self.state.state_dir / "console")
        self._loop = LoopThread(f"console-{address}")
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._up = threading.Event()
        self._started = False

    # lifecycle --------------------------------------------------------------------------------------
    def start(self) -> ConsoleServer:
        if self._started:
            return self
        self.node.boot()  # a node stopped mid-reboot applies what was pending
        self._loop.start()
        self._loop.call(self._listen())
        self._started = True
        self._up.set()
        log.info("console listening on %s:%s", self.address, self._port)
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._loop.call(self._shutdown())
        self._loop.stop()
        self._started = False
        self._up.clear()
        if self._owns_state:
            self.state.close()

    def __enter__(self) -> ConsoleServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_until_up(self, timeout: float = 30.0) -> bool:
        """Block until a reboot has finished (True) or ``timeout`` passed (False)."""
        return self._up.wait(timeout)

    # addresses and identity -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    def host_public_key(self) -> str:
        """The host key as an OpenSSH public-key line (what a known_hosts entry holds)."""
        return self.host_key.export_public_key("openssh").decode().strip()

    def host_key_fingerprint(self) -> str:
        return str(self.host_key.get_fingerprint("sha256"))

    # inside the loop --------------------------------------------------------------------------------
    async def _listen(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _Login(self.node, self._connections),
            self.address,
            self._port,
            server_host_keys=[self.host_key],
            process_factory=self._handle,
            encoding="utf-8",
            line_editor=True,
            reuse_address=True,
            login_timeout=30,
        )
        self._port = self._acceptor.get_port()

    async def _close_listener(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None

    async def _shutdown(self) -> None:
        await self._close_listener()
        for conn in list(self._connections):
            conn.close()
        for task in list(self._tasks):
            task.cancel()

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        term = Terminal(process, self.idle_timeout_s)
        end = await ConsoleSession(term, self.node, self.address).run()
        with contextlib.suppress(OSError, asyncssh.Error):
            process.exit(0)
        if end is not SessionEnd.LOGOUT:
            task = asyncio.get_running_loop().create_task(self._reboot(end))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reboot(self, end: SessionEnd) -> None:
        self._up.clear()
        log.info("console %s: rebooting after %s", self.address, end.value)
        await self._close_listener()
        await asyncio.sleep(0.05)  # let the session's exit status reach the client
        for conn in list(self._connections):
            conn.close()
        await asyncio.sleep(self.reboot_delay_s)
        report = await asyncio.to_thread(self.node.boot)
        if self.on_reboot is not None:
            try:
                await asyncio.to_thread(self.on_reboot, report)
            except Exception:
                log.exception("console %s: on_reboot callback failed", self.address)
        await self._listen()
        self._up.set()
