"""Pure pieces: error messages, Retry-After, certificate assessment, the write-only ledger, bundles."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from securemode.ca_adapters.base import SignedCertificateProblem, SigningRequest, from_bundle
from securemode.infra.pki.ca import LabCA, Validity
from securemode.pexip.certificates import assess, build_csr, new_private_key, read_ca_files
from securemode.pexip.client import retry_after_seconds
from securemode.pexip.errors import api_message
from securemode.pexip.ledger import WriteOnlyLedger
from securemode.redact import register_secret
from securemode.site import KeyType


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("unit-ca"))


def test_validation_body_names_the_field() -> None:
    message, fields = api_message(400, {"global": {"ocsp_responder_url": ["A URL is required."]}}, "")
    assert message == "field 'ocsp_responder_url': A URL is required."
    assert fields == {"ocsp_responder_url": ["A URL is required."]}
    assert api_message(400, {"name": ["Taken."]}, "")[0] == "field 'name': Taken."
    assert api_message(404, {"error": "No x matches."}, "")[0] == "No x matches."
    assert api_message(502, None, "<html> Bad   gateway </html>")[0] == "<html> Bad gateway </html>"


def test_messages_are_redacted() -> None:
    register_secret("hunter2-secret-value")
    message, _ = api_message(400, {"snmp_privacy_password": ["'hunter2-secret-value' is too short"]}, "")
    assert "hunter2-secret-value" not in message and "***" in message


def test_retry_after_forms() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Mon, 01 Jan 2024 00:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_assessment(ca: LabCA) -> None:
    anchors = read_ca_files([ca.root_path, ca.intermediate_path])
    good = ca.issue_server("n1", dns_names=["n1.example.test", "sip.example.test"], key_type="rsa")
    chain = good.fullchain_path.read_text()
    assert assess(chain, anchors, ["n1.example.test", "sip.example.test"], 30).good
    missing = assess(chain, anchors, ["n1.example.test", "other.example.test"], 30)
    assert [(p.control, p.text) for p in missing.problems] == [("pki.cert.name", "does not cover other.example.test")]
    assert "within 400 days" in assess(chain, anchors, ["n1.example.test"], 400).summary()
    expired = ca.issue_server("n2", dns_names=["n2.example.test"], validity=Validity.expired())
    assert not assess(expired.fullchain_path.read_text(), anchors, ["n2.example.test"], 30).good
    other = LabCA.create(ca.directory.parent / "other-ca")
    stranger = other.issue_server("n3", dns_names=["n3.example.test"]).fullchain_path.read_text()
    assert "does not chain" in assess(stranger, anchors, ["n3.example.test"], 30).summary()
    later = datetime.now(UTC) + timedelta(days=400)
    assert not assess(chain, anchors, ["n1.example.test"], 0, now=later).good


def test_expired_certificate_of_the_site_ca_is_a_validity_problem_said_plainly(ca: LabCA) -> None:
    """The plan line of an expired certificate: pki.cert.validity, "expired on DATE", no library object."""
    anchors = read_ca_files([ca.root_path, ca.intermediate_path])
    expired = ca.issue_server("n4", dns_names=["n4.example.test"], validity=Validity.expired())
    verdict = assess(expired.fullchain_path.read_text(), anchors, ["n4.example.test"], 30)
    day = expired.certificate().not_valid_after_utc.date().isoformat()
    assert verdict.control == "pki.cert.validity"
    assert verdict.summary() == f"expired on {day}"
    early = ca.issue_server("n5", dns_names=["n5.example.test"], validity=Validity.not_yet_valid())
    assert assess(early.fullchain_path.read_text(), anchors, ["n5.example.test"], 30).summary().startswith(
        "not valid before ")
    other = LabCA.create(ca.directory.parent / "third-ca")
    stranger = other.issue_server("n6", dns_names=["n6.example.test"], validity=Validity.expired())
    both = assess(stranger.fullchain_path.read_text(), anchors, ["n6.example.test"], 30)
    assert both.control == "pki.cert.trusted"
    assert [p.control for p in both.problems] == ["pki.cert.trusted", "pki.cert.validity"]
    wrong_name = assess(stranger.fullchain_path.read_text(), anchors, ["x.example.test"], 30)
    assert "<" not in wrong_name.summary() and "Certificate(" not in wrong_name.summary()


def test_signed_bundle_must_match_the_csr(ca: LabCA) -> None:
    key = new_private_key(KeyType.ECDSAP256)
    csr = build_csr(key, "n.example.test", ["n.example.test"])
    request = SigningRequest("n", "n.example.test", ("n.example.test",), csr)
    leaf = ca.sign_csr(csr.encode()).decode()
    signed = from_bundle(request, ca.intermediate_path.read_text() + leaf)  # any order: the leaf is found by key
    assert signed.certificate_pem.strip() == leaf.strip() and "BEGIN CERTIFICATE" in signed.chain_pem
    wrong = build_csr(new_private_key(KeyType.ECDSAP256), "n.example.test", ["n.example.test"])
    with pytest.raises(SignedCertificateProblem, match="does not belong"):
        from_bundle(request, ca.sign_csr(wrong.encode()).decode())


def test_ledger(tmp_path: Path) -> None:
    ledger = WriteOnlyLedger(tmp_path / "w.json")
    assert not ledger.matches("k", "secret-one")
    ledger.record("k", "secret-one")
    assert ledger.matches("k", "secret-one") and not ledger.matches("k", "secret-two")
    text = (tmp_path / "w.json").read_text()
    assert "secret-one" not in text
    assert stat.S_IMODE((tmp_path / "w.json").stat().st_mode) == 0o600
    ledger.forget("k")
    assert not ledger.matches("k", "secret-one")
