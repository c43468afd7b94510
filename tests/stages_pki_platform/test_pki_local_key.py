"""csr_on_node: false — the CN is the node's IP address, so the key and CSR are made here: the key is
written 0600 under the state folder, never logged, and the served certificate belongs to it."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from securemode.catalogue import Stage
from securemode.flows.stages import load
from securemode.pexip.state import site_dir
from securemode.results import Status
from tests.stage_steps import run_steps
from tests.stages_pki_platform.lab import Lab, start_lab

PKI = load(Stage.PKI)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Lab]:
    started = start_lab(tmp_path_factory.mktemp("lab-local"), csr_on_node=False, key_type="ECDSAP256")
    yield started
    started.twin.stop()


def test_local_key_and_ip_common_name(lab: Lab) -> None:
    changes = run_steps(PKI, lab.loaded, apply=True).changes
    mgr = lab.loaded.site.management_node
    key_path = site_dir(lab.loaded) / "keys" / f"{mgr.name}.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key_text = key_path.read_text()
    assert key_text not in json.dumps([c.model_dump(mode="json") for c in changes])
    served = x509.load_pem_x509_certificate(lab.twin.certificate_pem().encode())
    assert served.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == str(mgr.address)
    results = {(r.control, r.target): r for r in PKI.verify(lab.loaded)}
    for control in ("pki.cert.trusted", "pki.cert.name", "pki.cert.key-pair", "pki.cert.validity"):
        assert results[(control, mgr.name)].status is Status.PASS, results[(control, mgr.name)].message
    assert "key_spki_sha256" in results[("pki.cert.key-pair", mgr.name)].observed  # type: ignore[operator]
    assert run_steps(PKI, lab.loaded, apply=True).changes == []
