"""Client certificates per administrator from the lab CA adapter: issued once for users in LDAP, kept
owner-only in the state folder, named by CN or UPN; a user missing from LDAP is refused."""

from __future__ import annotations

import datetime as dt
import stat

from cryptography import x509

from securemode.engine import EngineContext, EnsureStep, NoApprovals
from securemode.site import Administrator, ClientCertificateMode, Role
from securemode.site_loader import LoadedSite
from securemode.tasks.auth.client_certificates import credential, ensure_client_certificates, identity_in, stale
from tests.stages_auth.lab import AuthLab

STEP = EnsureStep("client-certificates", ensure_client_certificates)


def run(loaded: LoadedSite) -> tuple[EngineContext, list[str]]:
    ctx = EngineContext(site=loaded, apply=True, gate=NoApprovals())
    return ctx, [c.render() for c in STEP.run(ctx)]


def test_one_certificate_per_administrator_then_nothing(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    _ctx, first = run(loaded)
    assert len(first) == len(loaded.site.administrators) == 3
    for admin in loaded.site.administrators:
        cred = credential(loaded, admin.username)
        assert stat.S_IMODE(cred.key.stat().st_mode) == 0o600
        cert = x509.load_pem_x509_certificate(cred.certificate.read_bytes())
        assert identity_in(cert, ClientCertificateMode.CN) == admin.username
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in usage
        assert cred.key_reference.startswith("file:") and "PRIVATE" not in cred.key_reference
    assert run(loaded)[1] == []


def test_upn_mode_names_the_upn(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    admin = loaded.site.administrators[0]
    cred = credential(loaded, admin.username)
    now = dt.datetime.now(dt.UTC)
    assert admin.upn is not None
    assert stale(cred, admin.upn, ClientCertificateMode.UPN, now) is not None  # a CN certificate has no UPN


def test_a_user_missing_from_ldap_gets_no_certificate(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    ghost = Administrator(username="nobody-in-ldap", role=Role.READ_WRITE)
    site = loaded.site.model_copy(update={"administrators": [*loaded.site.administrators, ghost]})
    ctx, changes = run(LoadedSite(site=site, path=loaded.path))
    assert changes == []
    assert any("nobody-in-ldap not found in LDAP" in reason for reason in ctx.skipped), ctx.skipped
    assert not credential(loaded, "nobody-in-ldap").exists()
