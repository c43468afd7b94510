"""One client certificate per administrator the site names, issued by the site's CA adapter for a user
that exists in LDAP (guide: Enable certificate-based authentication).

The identity is the CN (the username) or, in UPN mode, a userPrincipalName subjectAltName. Each key is
made here and kept in the engine's state folder (owner-only files, never beside the reports); what other
code gets is a ``file:`` secret reference to it. A certificate is issued again when it is missing, names
another identity, does not hold its key, or expires within :data:`RENEW_BEFORE`.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from securemode.ca_adapters import CaAdapter, SigningRequest, adapter_for
from securemode.engine import Change, Deferred, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip.state import subdir, write_private
from securemode.site import Administrator, ClientCertificateMode
from securemode.site_loader import LoadedSite
from securemode.targets import PLATFORM_TARGET
from securemode.tasks.auth.directory import DirectoryUnavailable, user_exists
from securemode.tasks.auth.fallback import excepted_on_fallback

CONTROL = "auth.client-certificate.issued"
FOLDER = "client-certificates"
RENEW_BEFORE = dt.timedelta(days=30)
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@dataclass(frozen=True)
class ClientCredential:
    """Where an administrator's certificate (leaf and chain) and key are kept."""

    username: str
    certificate: Path
    key: Path

    @property
    def key_reference(self) -> str:
        """The key as a secret reference (never its content)."""
        return f"file:{self.key}"

    def exists(self) -> bool:
        return self.certificate.is_file() and self.key.is_file()


def credential(loaded: LoadedSite, username: str) -> ClientCredential:
    folder = subdir(loaded, FOLDER)
    return ClientCredential(username, folder / f"{username}.pem", folder / f"{username}.key")


def identity(admin: Administrator, mode: ClientCertificateMode) -> str:
    """What the Management Node reads from the certificate: the CN, or the UPN."""
    if mode is ClientCertificateMode.UPN:
        if not admin.upn:
            raise ValueError(f"administrator {admin.username} has no upn, which UPN mode needs")
        return admin.upn
    return admin.username


def identity_in(cert: x509.Certificate, mode: ClientCertificateMode) -> str | None:
    if mode is ClientCertificateMode.CN:
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(cns[0].value) if cns else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID and len(other.value) > 2 and other.value[0] == 0x0C:
            return other.value[2:].decode("utf-8", "replace")
    return None


def stale(cred: ClientCredential, wanted: str, mode: ClientCertificateMode, now: dt.datetime) -> str | None:
    """Why the kept certificate cannot be used as it is, or None."""
    if not cred.exists():
        return "none issued"
    cert = x509.load_pem_x509_certificate(cred.certificate.read_bytes())
    key = serialization.load_pem_private_key(cred.key.read_bytes(), password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        return "the certificate does not hold the kept key"
    found = identity_in(cert, mode)
    if found != wanted:
        return f"names {found!r}"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"expires {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


def _utf8_string(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 127:
        raise ValueError("a UPN longer than 127 bytes is not supported")
    return bytes([0x0C, len(raw)]) + raw


def signing_request(admin: Administrator, mode: ClientCertificateMode, key: ec.EllipticCurvePrivateKey) -> str:
    """A CSR with CN = username and, in UPN mode, the UPN as a subjectAltName otherName."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, admin.username)])
    )
    if mode is ClientCertificateMode.UPN:
        upn = identity(admin, mode)
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.OtherName(UPN_OID, _utf8_string(upn))]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def pending_key(cred: ClientCredential) -> Path:
    """Where a key waits while a manual CA signs its CSR (kept, so the signed certificate still matches)."""
    return cred.key.with_suffix(".pending.key")


def issue(
    adapter: CaAdapter, admin: Administrator, mode: ClientCertificateMode, cred: ClientCredential
) -> Deferred | None:
    """The CSR of a kept (or new) key signed by the adapter; key and certificate kept owner-only. A manual
    CA that has not signed yet defers, keeping the key for its next run."""
    waiting = pending_key(cred)
    if waiting.is_file():
        loaded_key = serialization.load_pem_private_key(waiting.read_bytes(), password=None)
        if not isinstance(loaded_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{waiting} is not an EC key")
        key = loaded_key
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    csr = signing_request(admin, mode, key)
    signed = adapter.sign(SigningRequest(f"admin-{admin.username}", admin.username, (), csr, client_auth=True))
    if signed is None:
        write_private(waiting, pem)
        return Deferred(f"auth: waiting for the {adapter.name} CA to sign {admin.username}'s client certificate")
    write_private(cred.key, pem)
    write_private(cred.certificate, signed.bundle().encode())
    waiting.unlink(missing_ok=True)
    return None


def ensure_client_certificates(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    loaded = ctx.site
    if (excepted := excepted_on_fallback(ctx, CONTROL)) is not None:
        return excepted
    site = loaded.site
    mode = site.client_certificate
    now = dt.datetime.now(dt.UTC)
    todo = [
        (admin, cred, why)
        for admin in site.administrators
        if (why := stale(cred := credential(loaded, admin.username), identity(admin, mode), mode, now))
    ]
    if not todo:
        return plan_of()
    attribute = "userPrincipalName" if mode is ClientCertificateMode.UPN else "uid"
    try:
        missing = [a.username for a, _c, _w in todo if not user_exists(loaded, identity(a, mode), attribute)]
    except DirectoryUnavailable as exc:
        return plan_of(blocked=f"cannot check the administrators exist in LDAP: {exc}")
    if missing:
        return plan_of(
            blocked=f"administrator(s) {', '.join(missing)} not found in LDAP by {attribute}: "
            "a certificate for them would log nobody in"
        )
    adapter = adapter_for(loaded)
    return plan_of(
        *(
            Planned(
                action=partial(issue, adapter, admin, mode, cred),
                changes=(
                    Change(
                        control=CONTROL,
                        target=PLATFORM_TARGET,
                        setting=f"client certificate[{admin.username}]",
                        current=why,
                        desired=f"issued by the {adapter.name} CA for {identity(admin, mode)}",
                    ),
                ),
            )
            for admin, cred, why in todo
        )
    )
