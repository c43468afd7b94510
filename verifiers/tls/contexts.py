"""Client contexts a probe offers with: exactly one version, only anonymous DH, a verifying client,
or a modern client that reads whatever certificate the server presents."""

from __future__ import annotations

import ssl
import warnings
from enum import StrEnum

from securemode.endpoint import ClientCert

LEGACY_CIPHERS = "ALL:@SECLEVEL=0"
ANON_ONLY_CIPHERS = "aNULL:!eNULL:@SECLEVEL=0"


class TlsVersion(StrEnum):
    """Protocol versions, spelled as ``ssl.SSLSocket.version()`` reports them."""

    TLS1_0 = "TLSv1"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"

    @property
    def ssl_version(self) -> ssl.TLSVersion:
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[self.value]

    @property
    def legacy(self) -> bool:
        return self in (TlsVersion.TLS1_0, TlsVersion.TLS1_1)


def version_context(version: TlsVersion, client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client offering exactly ``version`` (with every cipher the version can use)."""
    ctx = _unverified_context(client_cert)
    set_versions(ctx, version.ssl_version, version.ssl_version)
    if version is not TlsVersion.TLS1_3:
        ctx.set_ciphers(LEGACY_CIPHERS)
    return ctx


def anon_dh_context(client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client offering only anonymous (EC)DH suites, TLS 1.0-1.2 (TLS 1.3 has none)."""
    ctx = _unverified_context(client_cert)
    set_versions(ctx, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers(ANON_ONLY_CIPHERS)
    return ctx


def verifying_context(ca_file: str, client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A client that verifies the chain against ``ca_file`` only (names are checked separately)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=ca_file)
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx


def inspecting_context(client_cert: ClientCert | None = None) -> ssl.SSLContext:
    """A modern client (TLS >= 1.2) that accepts any certificate, to read what the server presents."""
    ctx = _unverified_context(client_cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def set_versions(ctx: ssl.SSLContext, lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> None:
    """Pin the version range, deprecated versions included (offering them on purpose is the probe)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = lowest
        ctx.maximum_version = highest


def _unverified_context(client_cert: ClientCert | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx
