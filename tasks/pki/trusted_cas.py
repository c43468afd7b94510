"""Trusted CA certificates: every certificate of ``site.pki.trusted_ca_files`` is on the platform.

Other CAs already there (the LDAP server's, say) are left alone. A CA that is not self-issued is
uploaded as a trusted intermediate, so chains through it can be built.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from securemode.engine import Action, Change, EngineContext, Planned, StepPlan, plan_of
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


def plan_trusted_cas(api: ManagementApi, present: dict[str, CaCertificate], wanted: list[str]) -> list[Planned]:
    """Upload every wanted CA that is missing; correct the intermediate flag of one that is there."""
    planned: list[Planned] = []
    for pem in wanted:
        fp, intermediate = fingerprint(pem), is_intermediate(pem)
        have = present.get(fp)
        if have is not None and have.trusted_intermediate == intermediate:
            continue
        action: Action
        if have is None:
            action = partial(api.create, "ca_certificate",
                             CaCertificateCreate(certificate=pem, trusted_intermediate=intermediate).body())
        else:
            action = partial(api.patch, have.resource_uri or config_uri("ca_certificate", have.id),
                             {"trusted_intermediate": intermediate})
        current = None if have is None else {"trusted_intermediate": have.trusted_intermediate}
        desired = {"subject": subject(pem), "sha256": fp, "trusted_intermediate": intermediate}
        planned.append(Planned(action=action, changes=(Change(control=CONTROL, target=PLATFORM_TARGET,
                                                              setting="ca_certificate", current=current,
                                                              desired=desired),)))
    return planned


def ensure_trusted_cas(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    wanted = read_ca_files([ctx.site.resolve_path(p) for p in ctx.site.site.pki.trusted_ca_files])
    api = resources.enter_context(management_api(ctx.site))
    return plan_of(*plan_trusted_cas(api, read_trusted_cas(api), wanted))
