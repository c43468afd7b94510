"""Fixtures for the node agents: a lab CA and a node certificate; agents are started per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from securemode.infra.nodes import TlsPosture
from securemode.infra.pki.ca import IssuedCertificate, LabCA


def posture_from(issued: IssuedCertificate, **switches: bool) -> TlsPosture:
    """A node TLS posture serving ``issued`` (leaf + intermediate) with the given wizard switches."""
    return TlsPosture(
        certificate_pem=issued.fullchain_path.read_text(),
        private_key_pem=issued.key_path.read_text(),
        **switches,
    )


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("nodes-ca") / "ca")


@pytest.fixture(scope="session")
def node_cert(lab_ca: LabCA) -> IssuedCertificate:
    return lab_ca.issue_server("node1", dns_names=["node1.lab.test"], ip_addresses=["127.0.0.1"])


@pytest.fixture(scope="session")
def root_ca_file(lab_ca: LabCA) -> Path:
    return lab_ca.root_path
