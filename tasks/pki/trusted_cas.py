"""Trusted CA certificates: every certificate of ``site.pki.trusted_ca_files`` is on the platform.

Other CAs already there (the LDAP server's, say) are left alone. A CA that is not self-issued is
uploaded as a trusted intermediate, so chains through it can be built.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from securemode.engine import Change, EngineContext
from securemode.pexip.certificates import read_ca_files
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import management_api
from securemode.pexip.desired import PLATFORM_TARGET
from securemode.pexip.models import CaCertificate, CaCertificateCreate

CONTROL = "pki.trusted-ca"


def fingerprint(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex()


def is_intermediate(pem: str) -> bool:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return cert.subject != cert.issuer


def subject(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()


def read_trusted_cas(api: ManagementApi) -> dict[str, CaCertificate]:
    """Trusted CA objects on the platform, by SHA-256 fingerprint of their certificate."""
    out: dict[str, CaCertificate] = {}
    for ca in api.list_objects(CaCertificate, "ca_certificate"):
        try:
            out[fingerprint(ca.certificate)] = ca
        except ValueError:
            continue
    return out


def ensure_trusted_cas(ctx: EngineContext) -> list[Change]:
    wanted = read_ca_files([ctx.site.resolve_path(p) for p in ctx.site.site.pki.trusted_ca_files])
    with management_api(ctx.site) as api:
        present = read_trusted_cas(api)
        changes: list[Change] = []
        for pem in wanted:
            fp, intermediate = fingerprint(pem), is_intermediate(pem)
            have = present.get(fp)
            if have is not None and have.trusted_intermediate == intermediate:
                continue
            current = None if have is None else {"trusted_intermediate": have.trusted_intermediate}
            desired = {"subject": subject(pem), "sha256": fp, "trusted_intermediate": intermediate}
            if ctx.apply:
                if have is None:
                    api.create("ca_certificate", CaCertificateCreate(certificate=pem,
                                                                     trusted_intermediate=intermediate).body())
                else:
                    api.patch(have.resource_uri or config_uri("ca_certificate", have.id),
                              {"trusted_intermediate": intermediate})
            changes.append(Change(control=CONTROL, target=PLATFORM_TARGET, setting="ca_certificate",
                                  current=current, desired=desired, applied=ctx.apply))
        return changes
