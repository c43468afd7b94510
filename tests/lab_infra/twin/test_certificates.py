"""Certificates: upload, key-pair check, on-node CSRs, bundle import, and assignment without restart."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from securemode.infra.twin import TwinManagementNode
from securemode.infra.twin.pki import KEY_PAIR_MISMATCH
from tests.lab_infra.twin.certs import ScratchCA
from tests.lab_infra.twin.helpers import COMMAND, CONFIG, Api
from tests.lab_infra.twin.tlsprobe import served_certificate


def test_fresh_node_serves_self_signed_certificate_id_1(twin: TwinManagementNode, api: Api) -> None:
    cert = api.get("tls_certificate/1/").json()
    assert cert["subject_name"] == "mgr.example.test"
    assert cert["issuer_name"] == cert["subject_name"]
    assert cert["nodes"] == ["mgr.example.test"]
    assert "private_key" not in cert
    served = x509.load_der_x509_certificate(served_certificate(twin.port))
    assert served.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "mgr.example.test"
    assert twin.fingerprint_sha256().replace(":", "").lower() == served.fingerprint(hashes.SHA256()).hex()


def test_upload_parses_certificate_and_refuses_a_foreign_key(api: Api, ca: ScratchCA) -> None:
    cert_pem, key_pem = ca.server("upload.example.test", ips=["127.0.0.1"])
    _, other_key = ca.server("other.example.test")
    resp = api.post("tls_certificate/", {"certificate": cert_pem, "private_key": other_key})
    assert resp.status_code == 400
    assert resp.json() == {"tls_certificate": {"certificate": [KEY_PAIR_MISMATCH]}}
    uri = api.create("tls_certificate", {"certificate": cert_pem + ca.pem, "private_key": key_pem})
    obj = api.get(uri).json()
    assert obj["subject_name"] == "upload.example.test"
    assert obj["issuer_name"] == ca.name
    assert obj["server_auth_usage"] is True
    assert "upload.example.test" in obj["subject_alt_names"]
    assert "PRIVATE KEY" not in api.get("tls_certificate/").text
    assert (
        api.get("tls_certificate/", params={"subject_name": "upload.example.test"}).json()["meta"]["total_count"] == 1
    )
    assert api.post("tls_certificate/", {"certificate": "junk", "private_key": key_pem}).status_code == 400


def test_csr_key_stays_on_node_and_completion_creates_certificate(api: Api, ca: ScratchCA) -> None:
    resp = api.post(
        "certificate_signing_request/",
        {"subject_name": "csr.example.test", "additional_subject_alt_names": "alt.example.test, 127.0.0.1"},
    )
    assert resp.status_code == 201
    uri = resp.headers["Location"]
    obj = api.get(uri).json()
    assert "private_key" not in obj
    assert "PRIVATE KEY" not in api.get(uri).text
    csr = x509.load_pem_x509_csr(obj["csr"].encode())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "csr.example.test"
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["csr.example.test", "alt.example.test"]
    ekus = set(csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert ekus == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert api.patch(uri, {"subject_name": "changed.example.test"}).status_code == 400
    wrong, _ = ca.server("csr.example.test")
    resp = api.patch(uri, {"certificate": wrong})
    assert resp.status_code == 400
    assert resp.json() == {"certificate_signing_request": {"certificate": [KEY_PAIR_MISMATCH]}}
    signed = ca.sign_csr(obj["csr"])
    assert api.patch(uri, {"certificate": signed}).status_code == 202
    assert api.get(uri).status_code == 404  # the guide: a CSR is deleted when its certificate is uploaded
    made = api.objects("tls_certificate", subject_name="csr.example.test")
    assert len(made) == 1
    assert made[0]["issuer_name"] == ca.name


def test_csr_with_uploaded_key_and_ecdsa(api: Api, ca: ScratchCA) -> None:
    _, key_pem = ca.server("own-key.example.test")
    uri = api.create(
        "certificate_signing_request",
        {"subject_name": "own.example.test", "private_key_type": "UPLOAD", "private_key": key_pem},
    )
    assert "PRIVATE KEY" not in api.get(uri).text
    ec_uri = api.create(
        "certificate_signing_request", {"subject_name": "ec.example.test", "private_key_type": "ECDSAP256"}
    )
    assert api.get(ec_uri).json()["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    resp = api.post("certificate_signing_request/", {"subject_name": "x", "private_key_type": "UPLOAD"})
    assert resp.status_code == 400
    assert "private_key" in resp.json()["certificate_signing_request"]


def test_certificates_import_splits_bundle_and_updates_by_subject(api: Api, ca: ScratchCA) -> None:
    leaf, key = ca.server("bundle.example.test")
    resp = api.post(COMMAND + "certificates_import/", {"bundle": leaf + ca.pem + key})
    assert resp.status_code == 202
    assert resp.json() == {"status": "success", "data": None}
    assert len(api.objects("tls_certificate", subject_name="bundle.example.test")) == 1
    assert len(api.objects("ca_certificate", subject_name=ca.name)) == 1
    leaf2, key2 = ca.server("bundle.example.test")
    assert api.post(COMMAND + "certificates_import/", {"bundle": leaf2 + key2}).status_code == 202
    again = api.objects("tls_certificate", subject_name="bundle.example.test")
    assert len(again) == 1
    assert again[0]["serial_no"] == format(x509.load_pem_x509_certificate(leaf2.encode()).serial_number, "x")
    orphan, _ = ca.server("orphan.example.test")
    resp = api.post(COMMAND + "certificates_import/", {"bundle": orphan})
    assert resp.status_code == 400
    assert resp.json()["certificates_import"]["bundle"] == [KEY_PAIR_MISMATCH]


def test_assigned_certificate_is_served_without_restart(make_twin: object, ca: ScratchCA, tmp_path: Path) -> None:
    node: TwinManagementNode = make_twin()  # type: ignore[operator]
    client = Api(node.base_url, node.write_certificate(tmp_path / "pin.pem"), auth=("admin", "Adm1n-Secret!"))
    leaf, key = ca.server("mgr.example.test", ips=["127.0.0.1"])
    uri = client.create("tls_certificate", {"certificate": leaf, "private_key": key})
    assert client.patch("management_vm/1/", {"tls_certificate": uri}).status_code == 202
    trusted = Api(node.base_url, ca.write(tmp_path / "ca.pem"), auth=("admin", "Adm1n-Secret!"))
    assert trusted.get("global/1/").status_code == 200  # now chains to the CA, same process
    assert client.delete(uri).status_code == 400  # in use by the Management Node
    assert trusted.get(uri).json()["nodes"] == ["mgr.example.test"]
    assert trusted.delete(f"{CONFIG}tls_certificate/1/").status_code == 204  # the default is free to go
