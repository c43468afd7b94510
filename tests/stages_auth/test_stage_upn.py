"""The auth stage with the identity in the certificate's UPN subjectAltName: certificates name the UPN,
the node finds the user by userPrincipalName, and every auth control holds after the cut-over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from securemode.flows import auth_proofs
from securemode.flows.stages.auth import SPEC
from securemode.results import Status
from securemode.site import ClientCertificateMode
from securemode.tasks.auth.client_certificates import credential, identity_in
from tests.stage_steps import approving, run_steps
from tests.stages_auth.lab import AuthLab, start_auth_lab


@pytest.fixture(scope="module")
def auth_lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[AuthLab]:
    started = start_auth_lab(tmp_path_factory.mktemp("auth-lab-upn"), client_certificate="UPN")
    yield started
    started.stop()


def test_upn_certificates_and_every_auth_control_holds(auth_lab: AuthLab) -> None:
    loaded = auth_lab.lab.loaded
    gate = approving([auth_proofs.REQUIRE_CERTIFICATES_GATE, auth_proofs.LDAP_ONLY_GATE])
    done = run_steps(SPEC, loaded, apply=True, gate=gate)
    assert done.ctx.skipped == []
    for admin in loaded.site.administrators:
        cert = x509.load_pem_x509_certificate(credential(loaded, admin.username).certificate.read_bytes())
        assert identity_in(cert, ClientCertificateMode.UPN) == admin.upn
    assert auth_lab.lab.twin.state.authentication()["client_certificate"] == "UPN"
    failing = [
        (r.control, r.status.value, r.message)
        for r in SPEC.verify(loaded)
        if r.status is not Status.PASS
        and not (r.control == "auth.source.ldap-and-local" and r.status is Status.NOT_APPLICABLE)
    ]
    assert failing == []
    assert run_steps(SPEC, loaded, apply=True, gate=gate).changes == []
