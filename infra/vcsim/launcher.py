"""Start and stop a vcsim-ext simulator on a free loopback port, by PID.

The simulator picks its own port (``-l 127.0.0.1:0``) and prints what it chose, so there is no
race for a port. The password travels in the environment, never on the command line, and the
TLS fingerprint the simulator prints is checked against a real handshake before the handle is
returned, so callers can pin it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from securemode.infra.vcsim.paths import BINARY, BUILD_SCRIPT, DEFAULT_OPTIONS_SEED, state_root


class VcsimError(RuntimeError):
    """The simulator could not be built, started or reached."""


@dataclass(frozen=True)
class VcsimOptions:
    """What to simulate. Defaults: one strict ESXi host with 2 pNICs, 2 VMs and the STIG options."""

    mode: Literal["esx", "vcenter"] = "esx"
    vms: int = 2
    pnics: int = 2
    datastores: int = 1
    hosts: int = 1
    clusters: int = 0
    cluster_hosts: int = 2
    options_seed: Path | None = DEFAULT_OPTIONS_SEED
    strict_options: bool = True
    lockdown_logins: bool = True
    autostart: bool = True
    username: str = "svc-securemode"  # a dedicated account: the lockdown exception user, never root
    listen_host: str = "127.0.0.1"

    def argv(self, binary: Path, state_dir: Path) -> list[str]:
        """Command line for vcsim-ext; the password is passed separately in the environment."""
        args = [
            str(binary),
            "-mode",
            self.mode,
            "-l",
            f"{self.listen_host}:0",
            "-vm",
            str(self.vms),
            "-pnics",
            str(self.pnics),
            "-ds",
            str(self.datastores),
            "-hosts",
            str(self.hosts),
            "-clusters",
            str(self.clusters),
            "-cluster-hosts",
            str(self.cluster_hosts),
            "-username",
            self.username,
            "-state-dir",
            str(state_dir),
            f"-strict-options={str(self.strict_options).lower()}",
            f"-lockdown-logins={str(self.lockdown_logins).lower()}",
            f"-autostart={str(self.autostart).lower()}",
        ]
        if self.options_seed is not None:
            args += ["-options", str(self.options_seed)]
        return args


@dataclass
class Vcsim:
    """A running simulator. ``stop()`` ends it (by PID) and removes its state directory."""

    url: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    pid: int
    tls_sha256: str
    state_dir: Path
    _process: subprocess.Popen[bytes] = field(repr=False)
    _keep_state: bool = field(default=False, repr=False)

    @property
    def tls_fingerprint(self) -> str:
        """SHA-256 of the certificate in the usual colon form (AB:CD:...)."""
        raw = self.tls_sha256.upper()
        return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))

    def usb_scancodes(self, vm_moid: str, since: int = 0) -> dict[str, Any]:
        """Keys typed into a VM through PutUsbScanCodes (lab-only endpoint, see README)."""
        query = f"vm={vm_moid}&since={since}"
        return self._lab_get(f"/vcsim-ext/usbscancodes?{query}")

    def _lab_get(self, path: str) -> dict[str, Any]:
        """GET a lab-only JSON endpoint, pinning the simulator's certificate."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # pinned by fingerprint below instead
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=5, context=context)
        try:
            conn.connect()
            assert isinstance(conn.sock, ssl.SSLSocket)
            der = conn.sock.getpeercert(binary_form=True) or b""
            if hashlib.sha256(der).hexdigest() != self.tls_sha256:
                raise VcsimError("simulator certificate does not match the pinned fingerprint")
            conn.request("GET", path)
            resp = conn.getresponse()
            if resp.status != 200:
                raise VcsimError(f"GET {path}: HTTP {resp.status}")
            data: dict[str, Any] = json.loads(resp.read())
            return data
        finally:
            conn.close()

    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the simulator (it removes its datastores), SIGKILL if it hangs."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout)
        if self._process.stdout is not None:
            self._process.stdout.close()
        if not self._keep_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Vcsim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def ensure_built() -> Path:
    """Run the (idempotent, stamp-checked) build and return the binary path."""
    result = subprocess.run([str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not BINARY.exists():
        raise VcsimError(f"vcsim build failed:\n{result.stderr.strip()}")
    return BINARY


def _read_banner(proc: subprocess.Popen[bytes], deadline: float) -> dict[str, str]:
    """Collect KEY=value lines from stdout until GOVC_URL, the last one, arrives."""
    assert proc.stdout is not None
    facts: dict[str, str] = {}
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while "GOVC_URL" not in facts:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                break
            if not sel.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                key, sep, value = line.decode().strip().partition("=")
                if sep:
                    facts[key] = value
    return facts


def _peer_sha256(host: str, port: int, timeout: float) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we read the certificate to compare its fingerprint
    with socket.create_connection((host, port), timeout=timeout) as sock, context.wrap_socket(sock) as tls:
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise VcsimError("simulator presented no certificate")
    return hashlib.sha256(der).hexdigest()


def _await_ready(proc: subprocess.Popen[bytes], stderr_path: Path, deadline: float) -> tuple[str, int, str]:
    """Wait for the banner, then check the announced fingerprint against a real handshake."""
    facts = _read_banner(proc, deadline)
    if "GOVC_URL" not in facts:
        raise VcsimError(f"vcsim did not start: {stderr_path.read_text(errors='replace').strip()}")
    netloc = facts["GOVC_URL"].split("//", 1)[1].split("/", 1)[0]
    host, _, port_text = netloc.rpartition(":")
    host, port = host.strip("[]"), int(port_text)
    seen = _peer_sha256(host, port, max(1.0, deadline - time.monotonic()))
    if seen != facts.get("VCSIM_TLS_SHA256"):
        raise VcsimError("TLS fingerprint announced by vcsim does not match its handshake")
    return host, port, seen


def start_vcsim(
    options: VcsimOptions | None = None,
    *,
    binary: Path | None = None,
    timeout: float = 15.0,
    keep_state: bool = False,
) -> Vcsim:
    """Start a simulator and return once it answers TLS with the certificate it announced."""
    opts = options or VcsimOptions()
    exe = (binary or BINARY).resolve()
    if not exe.exists():
        raise VcsimError(f"{exe} is missing: run infra/vcsim/build.sh")
    root = state_root()
    root.mkdir(parents=True, exist_ok=True)
    state_dir = Path(tempfile.mkdtemp(prefix="vcsim-", dir=root))
    password = secrets.token_urlsafe(18)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "VCSIM_PASSWORD": password, "TMPDIR": str(state_dir)}
    stderr_path = state_dir / "stderr.log"
    try:
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(
                opts.argv(exe, state_dir),
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
                cwd=state_dir,
                start_new_session=True,
            )
    except OSError as exc:
        shutil.rmtree(state_dir, ignore_errors=True)
        raise VcsimError(f"cannot run {exe}: {exc}") from exc
    try:
        host, port, seen = _await_ready(proc, stderr_path, time.monotonic() + timeout)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(state_dir, ignore_errors=True)
        raise
    return Vcsim(
        url=f"https://{_netloc(host, port)}/sdk",
        host=host,
        port=port,
        username=opts.username,
        password=password,
        pid=proc.pid,
        tls_sha256=seen,
        state_dir=state_dir,
        _process=proc,
        _keep_state=keep_state,
    )
