"""How the engine trusts a Pexip node's HTTPS certificate (design principle 7: fail closed).

Before the PKI stage a fresh node serves a self-signed certificate. Its SHA-256 fingerprint is
*pinned*: recorded once (by the bootstrap stage, or by a person who read it on the node's console)
with :func:`record_pin`, and from then on a connection succeeds only if the node presents exactly
that certificate. After the PKI stage the node's certificate chains to the site's trusted CAs
(``site.pki.trusted_ca_files``) and must be valid for the node's FQDN.

:func:`choose_trust` decides which of the two applies by looking at what the node serves now; the
chosen :data:`Trust` is then enforced on every connection of the session (see ``transport``), so
nothing is ever accepted without either the CA chain or the pin.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from securemode.pexip import state
from securemode.pexip.errors import TrustError
from securemode.site_loader import LoadedSite

_HANDSHAKE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PinnedFingerprint:
    """Trust exactly the certificate with this SHA-256 fingerprint (lower-case hex, no colons)."""

    sha256: str

    def describe(self) -> str:
        return f"pinned certificate sha256 {self.sha256[:16]}…"


@dataclass(frozen=True)
class CaBundle:
    """Trust a chain to the CAs in ``path`` that is valid for ``server_name``."""

    path: Path
    server_name: str

    def describe(self) -> str:
        return f"chain to {self.path.name} for {self.server_name}"


Trust = PinnedFingerprint | CaBundle


def normalise_fingerprint(value: str) -> str:
    """``AB:CD:…`` or ``abcd…`` → 64 lower-case hex digits; ValueError otherwise."""
    text = value.replace(":", "").strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError("a SHA-256 fingerprint has 64 hex digits (colons optional)")
    return text


def forget_pins_command(site: str = "SITE") -> str:
    """The command that drops a site's recorded pins (after a node was rebuilt on purpose)."""
    return f"securemode forget-pins --site {site}"


# pins ------------------------------------------------------------------------------------------------
def _pins_path(loaded: LoadedSite) -> Path:
    return state.site_dir(loaded) / "pins.json"


def recorded_pin(loaded: LoadedSite, address: str) -> PinnedFingerprint | None:
    """The pin recorded for the node at ``address``, if any."""
    entry = state.read_json(_pins_path(loaded)).get(address)
    return PinnedFingerprint(entry["sha256"]) if isinstance(entry, dict) and "sha256" in entry else None


def known_pin(loaded: LoadedSite, address: str) -> PinnedFingerprint | None:
    """The recorded pin, else the fingerprint the site file gives for the Management Node (read only:
    the site file is a person's statement of the certificate, so it is trusted without a record)."""
    pin = recorded_pin(loaded, address)
    node = loaded.site.management_node
    if pin is None and str(node.address) == address and node.https_fingerprint_sha256:
        return PinnedFingerprint(normalise_fingerprint(node.https_fingerprint_sha256))
    return pin


def record_pin(loaded: LoadedSite, address: str, fingerprint: str, source: str) -> PinnedFingerprint:
    """Record the fingerprint of the node's self-signed certificate and where it was read from."""
    pin = PinnedFingerprint(normalise_fingerprint(fingerprint))
    pins = state.read_json(_pins_path(loaded))
    pins[address] = {"sha256": pin.sha256, "source": source, "recorded_at": datetime.now(UTC).isoformat()}
    state.write_json(_pins_path(loaded), pins)
    return pin


def forget_pin(loaded: LoadedSite, address: str) -> bool:
    """Drop the recorded pin of the node at ``address``; True when there was one."""
    pins = state.read_json(_pins_path(loaded))
    if pins.pop(address, None) is None:
        return False
    state.write_json(_pins_path(loaded), pins)
    return True


# the site's CA bundle --------------------------------------------------------------------------------
def site_ca_bundle(loaded: LoadedSite) -> Path:
    """The site's trusted CA files as one PEM file (what TLS clients load as their trust anchors)."""
    parts: list[str] = []
    for name in loaded.site.pki.trusted_ca_files:
        path = loaded.resolve_path(name)
        try:
            parts.append(path.read_text(encoding="ascii").strip() + "\n")
        except OSError as exc:
            raise TrustError(f"pki.trusted_ca_files: cannot read {path}: {exc.strerror}") from None
    bundle = state.site_dir(loaded) / "trusted-cas.pem"
    text = "".join(parts)
    if not bundle.exists() or bundle.read_text(encoding="ascii") != text:
        bundle.write_text(text, encoding="ascii")
    return bundle


# choosing --------------------------------------------------------------------------------------------
def served_fingerprint(host: str, port: int, timeout: float = _HANDSHAKE_TIMEOUT_S) -> str:
    """SHA-256 of the certificate the server presents (read only, to compare with a pin)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # read the certificate to compare it with the pin; nothing is sent
    with socket.create_connection((host, port), timeout=timeout) as sock, ctx.wrap_socket(sock) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise TrustError(f"{host}:{port} presented no certificate")
    return hashlib.sha256(der).hexdigest()


def chain_error(
    host: str, port: int, bundle: Path, server_name: str, timeout: float = _HANDSHAKE_TIMEOUT_S
) -> str | None:
    """None when the served chain verifies to ``bundle`` for ``server_name``, else why not."""
    ctx = ssl.create_default_context(cafile=str(bundle))
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock, ctx.wrap_socket(
            sock, server_hostname=server_name
        ):
            return None
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return f"TLS error: {exc.reason or exc}"


def choose_trust(
    host: str, port: int, server_name: str, bundle: Path | None, pin: PinnedFingerprint | None
) -> Trust:
    """The site's CA chain when the node already presents one, else the recorded pin; else TrustError."""
    why_not_ca = "no trusted CA bundle"
    if bundle is not None:
        try:
            problem = chain_error(host, port, bundle, server_name)
        except OSError as exc:
            raise TrustError(f"cannot reach {host}:{port}: {exc}") from None
        if problem is None:
            return CaBundle(bundle, server_name)
        why_not_ca = problem
    try:
        served = served_fingerprint(host, port)
    except OSError as exc:
        raise TrustError(f"cannot reach {host}:{port}: {exc}") from None
    if pin is not None and served == pin.sha256:
        return pin
    pinned = f"the recorded pin {pin.sha256[:16]}…" if pin else "no pin recorded"
    raise TrustError(
        f"{host}:{port} presents a certificate (sha256 {served}) that does not chain to the site's trusted CAs "
        f"for {server_name} ({why_not_ca}) and is not pinned ({pinned}). Fix: compare that fingerprint with the one "
        f"shown on the node's console; if they match, run `{forget_pins_command()}` and then "
        f"`securemode run --site SITE --stage bootstrap --approve bootstrap.pin-web-certificate`, or install a "
        f"certificate signed by pki.trusted_ca_files"
    )


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 fingerprint (hex) of the first certificate in ``pem``."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    return cert.fingerprint(hashes.SHA256()).hex()
