"""TLS posture of the HTTPS listener, derived from state on every new connection.

A context is built per distinct posture and cached, so a new certificate, the securitywizard's TLS 1.0
and FIPS answers, or a client-certificate requirement apply to the next handshake without a restart.
OpenSSL 3 needs @SECLEVEL=0 before a server will offer TLS 1.0 (lab-services.md §5).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.state.twin_state import TwinState


@dataclass(frozen=True)
class TlsPosture:
    cert_chain_pem: str
    key_pem: str
    enable_tls10: bool
    fips_mode: bool
    client_certificate: str  # NO | CN | UPN
    trusted_ca_pem: str

    def digest(self) -> str:
        parts = (
            self.cert_chain_pem,
            self.key_pem,
            str(self.enable_tls10),
            str(self.fips_mode),
            self.client_certificate,
            self.trusted_ca_pem,
        )
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def current_posture(state: TwinState) -> TlsPosture:
    """What the node serves now: the Management Node's assigned certificate, else the oldest one."""
    mgr = state.store.all("management_vm")
    identity = state.tls_identity(mgr[0]) if mgr else None
    if identity is None:
        certs = state.store.all("tls_certificate")
        if not certs:
            raise RuntimeError("no TLS certificate in state")
        identity = (certs[0]["certificate"], certs[0]["private_key"])
    sec = state.security_settings()
    auth = state.authentication()
    return TlsPosture(
        identity[0],
        identity[1],
        sec.enable_tls10,
        sec.fips_mode,
        str(auth.get("client_certificate") or "NO"),
        state.trusted_ca_pem(),
    )


def build_context(posture: TlsPosture, config: TwinConfig, workdir: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION
    _load_identity(ctx, posture, workdir)
    if posture.enable_tls10:
        with warnings.catch_warnings():  # deprecated on purpose: the securitywizard can enable it
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        if not config.tls10_also_enables_tls11:
            ctx.options |= ssl.OP_NO_TLSv1_1
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if posture.fips_mode:
        ciphers = config.fips_ciphers
        if posture.enable_tls10:
            ciphers += ":ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0"
        ctx.set_ciphers(ciphers)
        if not config.fips_allow_tls13:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif posture.enable_tls10:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        ctx.set_ciphers("DEFAULT")
    if posture.client_certificate != "NO":
        ctx.verify_mode = ssl.CERT_REQUIRED if config.client_cert_fail_handshake else ssl.CERT_OPTIONAL
        if posture.trusted_ca_pem:
            ctx.load_verify_locations(cadata=posture.trusted_ca_pem)
    return ctx


def _load_identity(ctx: ssl.SSLContext, posture: TlsPosture, workdir: Path) -> None:
    """load_cert_chain needs files: write them 0600 just long enough to load, then remove them."""
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(dir=workdir, suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(posture.key_pem + posture.cert_chain_pem)
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)


class TlsContexts:
    """Cache of SSLContexts by posture digest; `current()` is cheap when nothing changed."""

    def __init__(self, state: TwinState, workdir: Path) -> None:
        self.state = state
        self.workdir = workdir
        self._cache: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self.last_posture: TlsPosture | None = None

    def current(self) -> ssl.SSLContext:
        posture = current_posture(self.state)
        key = posture.digest()
        with self._lock:
            ctx = self._cache.get(key)
            if ctx is None:
                if len(self._cache) > 16:
                    self._cache.clear()
                ctx = build_context(posture, self.state.config, self.workdir)
                self._cache[key] = ctx
            self.last_posture = posture
            return ctx
