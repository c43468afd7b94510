"""Private network namespaces for behaviour that needs a firewall (drop vs. reject of closed ports).

A :class:`NetNamespace` is a netns with a veth pair to the root namespace. Both ends get addresses in
a private ``10.213.X.0/24`` that exists only on that veth pair (X is picked so it clashes with no
address already on the machine), so the root namespace can reach the namespace and nothing else.
Firewall rules are applied only *inside* the namespace; the root namespace's firewall is never
touched. Creating one needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); without it :class:`NetnsUnavailable`
is raised, never a silent fallback.

Sockets can be opened inside the namespace from this process (:meth:`NetNamespace.entered`): a
socket belongs to the namespace it was created in, even after the thread switches back.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

CLONE_NEWNET = 0x40000000
SUBNET_BASE = ipaddress.IPv4Network("10.213.0.0/16")
_LOCK_FILE = Path(tempfile.gettempdir()) / "securemode-netns.lock"
_NETNS_DIR = Path("/run/netns")
_CMD_TIMEOUT_S = 10.0


class NetnsUnavailable(RuntimeError):
    """Network namespaces cannot be used here (not root, or the kernel/container forbids it)."""


class NetnsError(RuntimeError):
    """A namespace command failed."""


def netns_unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None when they can (cheap check, changes nothing)."""
    if os.geteuid() != 0:
        return f"network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN); running as uid {os.geteuid()}"
    for tool in ("ip", "nft"):
        if not any((Path(d) / tool).exists() for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
            return f"'{tool}' is not installed (iproute2 / nftables)"
    return None


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=_CMD_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise NetnsError(f"{' '.join(argv[:4])}… failed (rc={proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _used_third_octets() -> set[int]:
    """Third octets of 10.213.X.0/24 already in use by any address or route in the root namespace."""
    used: set[int] = set()
    text = _run(["ip", "-o", "-4", "addr", "show"]) + _run(["ip", "-4", "route", "show", "table", "all"])
    for token in text.split():
        with contextlib.suppress(ValueError):
            net = ipaddress.IPv4Interface(token).network
            if net.overlaps(SUBNET_BASE):
                used.add(int(net.network_address.packed[2]))
    return used


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns failed: {os.strerror(err)}")


class NetNamespace:
    """One private namespace joined to the root namespace by a veth pair; see the module docstring.

    Use as a context manager, or call :meth:`up` / :meth:`down` yourself. ``down`` kills every
    process started with :meth:`popen` (by PID), deletes the veth pair and the namespace.
    """

    def __init__(self, prefix: str = "sm") -> None:
        tag = secrets.token_hex(3)
        self.name = f"{prefix}-{os.getpid()}-{tag}"
        self.host_ifname = f"smv{tag}h"
        self.ns_ifname = f"smv{tag}n"
        self.host_address = ""
        self.address = ""
        self.prefixlen = 24
        self._procs: list[subprocess.Popen[bytes]] = []
        self._is_up = False

    def __repr__(self) -> str:
        return f"NetNamespace({self.name!r}, address={self.address!r}, up={self._is_up})"

    def __enter__(self) -> NetNamespace:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    @property
    def is_up(self) -> bool:
        return self._is_up

    def up(self) -> None:
        """Create the namespace, the veth pair and addresses; bring lo and the veth up."""
        reason = netns_unavailable_reason()
        if reason:
            raise NetnsUnavailable(reason)
        try:
            _run(["ip", "netns", "add", self.name])
        except NetnsError as exc:
            raise NetnsUnavailable(f"cannot create a network namespace: {exc}") from exc
        self._is_up = True
        atexit.register(self.down)
        try:
            self._wire()
        except BaseException:
            self.down()
            raise

    def _wire(self) -> None:
        _LOCK_FILE.touch(exist_ok=True)
        with _LOCK_FILE.open("r") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            free = sorted(set(range(1, 255)) - _used_third_octets())
            if not free:
                raise NetnsError(f"no free /24 left in {SUBNET_BASE}")
            octet = free[0]
            self.host_address = f"10.213.{octet}.1"
            self.address = f"10.213.{octet}.2"
            _run(["ip", "link", "add", self.host_ifname, "type", "veth", "peer", "name", self.ns_ifname])
            _run(["ip", "addr", "add", f"{self.host_address}/{self.prefixlen}", "dev", self.host_ifname])
        _run(["ip", "link", "set", self.ns_ifname, "netns", self.name])
        _run(["ip", "link", "set", self.host_ifname, "up"])
        self.exec(["ip", "link", "set", "lo", "up"])
        self.exec(["ip", "addr", "add", f"{self.address}/{self.prefixlen}", "dev", self.ns_ifname])
        self.exec(["ip", "link", "set", self.ns_ifname, "up"])

    def down(self) -> None:
        """Stop our processes (by PID), delete the veth pair and the namespace. Idempotent."""
        if not self._is_up:
            return
        for proc in self._procs:
            _stop_process(proc)
        self._procs.clear()
        with contextlib.suppress(NetnsError):
            _run(["ip", "link", "del", self.host_ifname])
        with contextlib.suppress(NetnsError):
            _run(["ip", "netns", "del", self.name])
        self._is_up = False
        atexit.unregister(self.down)

    def exists(self) -> bool:
        """Whether the kernel still has the namespace (reads /run/netns)."""
        return (_NETNS_DIR / self.name).exists()

    def exec(self, argv: Sequence[str], stdin: str | None = None) -> str:
        """Run a command inside the namespace, wait for it, return stdout (raise on failure)."""
        self._require_up()
        return _run(["ip", "netns", "exec", self.name, *argv], stdin=stdin)

    def popen(self, argv: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start a long-running process inside the namespace; :meth:`down` stops it by PID."""
        self._require_up()
        proc: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            ["ip", "netns", "exec", self.name, *argv], start_new_session=True, **kwargs
        )
        self._procs.append(proc)
        return proc

    def apply_nft(self, ruleset: str) -> None:
        """Load an nftables ruleset inside the namespace (one atomic ``nft -f`` transaction)."""
        self.exec(["nft", "-f", "-"], stdin=ruleset)

    def nft_ruleset(self) -> str:
        """The namespace's current nftables ruleset, as ``nft list ruleset`` prints it."""
        return self.exec(["nft", "list", "ruleset"])

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Switch the *calling thread* into the namespace for the block, then back.

        Sockets created in the block live in the namespace for good.
        """
        self._require_up()
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(_NETNS_DIR / self.name, os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)

    def socket(self, family: int, type_: int) -> socket.socket:
        """A new socket that lives in the namespace."""
        with self.entered():
            return socket.socket(family, type_)

    def _require_up(self) -> None:
        if not self._is_up:
            raise NetnsError(f"namespace {self.name} is not up")


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=3)
