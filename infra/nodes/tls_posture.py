"""Server-side TLS posture of a twin node, built from the security wizard's answers.

Used by the SIP TLS listener here and reusable by the HTTPS server of the Management API twin, so
every TLS socket of a node follows the same three switches:

* ``enable_tls10`` (security.json ``enable_tls1``): TLS 1.0 and 1.1 are accepted. On OpenSSL 3 that
  also needs ``@SECLEVEL=0`` (SHA-1 signatures), otherwise the "enabled" server still refuses.
  GUESS: Pexip's switch enables 1.1 together with 1.0 (no source names TLS 1.1 separately).
* ``enable_anon_dh`` (security.json ``enable_sip_tls_adh``): anonymous (EC)DH suites (ADH/AECDH)
  are accepted in TLS <= 1.2. GUESS: modelled as an inbound acceptance (the wizard text says
  "for outbound SIP/TLS").
* ``fips_mode``: TLS >= 1.2 with AES-GCM/AES-CBC-SHA2 (EC)DHE suites only, and TLS 1.3 limited to
  the AES-GCM suites. FIPS wins over the two switches above. GUESS: Pexip's exact FIPS suite list is
  not published.
"""

from __future__ import annotations

import ctypes
import os
import ssl
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

# RFC 7919 ffdhe2048 group: finite-field DH parameters for ADH/DHE suites (standard public values).
FFDHE2048_PEM = """-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""

# Authenticated (EC)DHE suites only; anonymous suites are added by opt-in (a leading "!aNULL" would
# remove them for good, and so would "DEFAULT", so the anon variants are built without either).
MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:ECDHE+AES:DHE+AES"
EXCLUDED = "!eNULL:!MD5:!3DES:!RC4"
FIPS_CIPHERS = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"
)
FIPS_TLS13_SUITES = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"


class TlsPosture(BaseModel):
    """The certificate a node serves and the security-wizard switches that shape its TLS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_pem: str  # leaf first, then any intermediates
    private_key_pem: SecretStr
    enable_tls10: bool = False
    enable_anon_dh: bool = False
    fips_mode: bool = False


class TlsPostureError(ValueError):
    """The certificate/key cannot be loaded or the posture cannot be built."""


def cipher_string(posture: TlsPosture) -> str:
    """The OpenSSL cipher string (TLS <= 1.2) the posture implies."""
    if posture.fips_mode:
        return FIPS_CIPHERS
    if posture.enable_tls10:
        base = "ALL:!eNULL" if posture.enable_anon_dh else "DEFAULT"
    else:
        base = f"{MODERN_CIPHERS}:aNULL:{EXCLUDED}" if posture.enable_anon_dh else f"{MODERN_CIPHERS}:!aNULL:{EXCLUDED}"
    # OpenSSL 3 needs security level 0 for SHA-1 handshake signatures (TLS 1.0/1.1) and for aNULL suites.
    return base + (":@SECLEVEL=0" if posture.enable_tls10 or posture.enable_anon_dh else "")


def server_context(posture: TlsPosture) -> ssl.SSLContext:
    """A server SSLContext that behaves as the posture says (see the module docstring)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    legacy = posture.enable_tls10 and not posture.fips_mode
    with warnings.catch_warnings():  # TLS 1.0 is deprecated, which is the point of this switch
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1 if legacy else ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    try:
        ctx.set_ciphers(cipher_string(posture))
    except ssl.SSLError as exc:
        raise TlsPostureError(f"cipher string rejected by OpenSSL: {exc.reason}") from None
    if posture.enable_anon_dh and not posture.fips_mode:
        _load_pem_file(ctx.load_dh_params, FFDHE2048_PEM)
    if posture.fips_mode:
        _set_tls13_suites(ctx, FIPS_TLS13_SUITES)
    _load_cert_chain(ctx, posture.certificate_pem, posture.private_key_pem.get_secret_value())
    return ctx


def _load_cert_chain(ctx: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    # Python's ssl loads certificates and keys only from files: write them to a private dir, load, delete.
    with tempfile.TemporaryDirectory(prefix="sm-tls-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_text(cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key_pem)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            # exc.reason (e.g. KEY_VALUES_MISMATCH) names the problem without echoing key material.
            raise TlsPostureError(f"certificate/key not usable: {exc.reason or exc.library}") from None


def _load_pem_file(loader: Callable[[str], None], pem: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as fh:
        fh.write(pem)
        fh.flush()
        loader(fh.name)


def _set_tls13_suites(ctx: ssl.SSLContext, suites: str) -> None:
    """Restrict TLS 1.3 suites; CPython 3.11 has no API for it, so call libssl on the context's SSL_CTX.

    The pointer is taken from the PySSLContext object (first field after the object header) and
    checked by reading the options back through libssl before anything is written.
    """
    lib = ctypes.CDLL("libssl.so.3")
    lib.SSL_CTX_get_options.restype = ctypes.c_uint64
    lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
    lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ptr or lib.SSL_CTX_get_options(ptr) != ctx.options:
        raise TlsPostureError("cannot restrict TLS 1.3 suites: SSL_CTX pointer check failed")
    if lib.SSL_CTX_set_ciphersuites(ptr, suites.encode()) != 1:
        raise TlsPostureError(f"libssl rejected TLS 1.3 suites {suites}")
