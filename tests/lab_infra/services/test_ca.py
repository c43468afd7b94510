"""The lab CA: layout, permissions, chains that real TLS stacks accept, client-cert forms, CSR signing."""

from __future__ import annotations

import contextlib
import socket
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from securemode.infra.pki.ca import IssuedCertificate, LabCA, Validity, upns_of


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_layout_and_key_permissions(lab_ca: LabCA) -> None:
    d = lab_ca.directory
    for name in ("root.pem", "intermediate.pem", "chain.pem", "root.key", "intermediate.key"):
        assert (d / name).is_file(), name
    assert _mode(d) == 0o700
    assert _mode(d / "root.key") == 0o600
    assert _mode(d / "intermediate.key") == 0o600
    issued = lab_ca.issue_server("perm-check", dns_names=["perm.lab.test"])
    assert _mode(issued.key_path) == 0o600
    chain = x509.load_pem_x509_certificates(lab_ca.chain_path.read_bytes())
    assert [c.subject for c in chain] == [lab_ca.intermediate_cert.subject, lab_ca.root_cert.subject]
    full = x509.load_pem_x509_certificates(issued.fullchain_path.read_bytes())
    assert full[1].subject == lab_ca.intermediate_cert.subject


def test_ensure_is_idempotent_and_create_refuses_to_overwrite(lab_ca: LabCA) -> None:
    again = LabCA.ensure(lab_ca.directory)
    assert again.root_cert == lab_ca.root_cert
    with pytest.raises(FileExistsError):
        LabCA.create(lab_ca.directory)
    with pytest.raises(FileNotFoundError, match="no lab CA"):
        LabCA.load(lab_ca.directory / "nowhere")


@contextlib.contextmanager
def serve_once(issued: IssuedCertificate) -> Iterator[int]:
    """A one-shot Python TLS server presenting ``issued`` (leaf + intermediate); yields its port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(issued.fullchain_path, issued.key_path)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        t.join(2)


def _client_handshake(lab_ca: LabCA, port: int, server_hostname: str) -> bytes:
    ctx = ssl.create_default_context(cafile=str(lab_ca.root_path))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=3) as raw,
        ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return tls.recv(2)


@pytest.fixture
def issued(lab_ca: LabCA) -> IssuedCertificate:
    return lab_ca.issue_server("tls-ok", dns_names=["node.lab.test"], ip_addresses=["127.0.0.1"])


@pytest.mark.parametrize("hostname", ["node.lab.test", "127.0.0.1"])
def test_server_cert_verifies_by_dns_and_ip_name(lab_ca: LabCA, issued: IssuedCertificate, hostname: str) -> None:
    with serve_once(issued) as port:
        assert _client_handshake(lab_ca, port, hostname) == b"ok"
    eku = issued.certificate().extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_server_cert_wrong_name_is_rejected(lab_ca: LabCA, issued: IssuedCertificate) -> None:
    with serve_once(issued) as port, pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _client_handshake(lab_ca, port, "other.lab.test")


def test_expired_cert_is_rejected_by_a_real_client(lab_ca: LabCA) -> None:
    expired = lab_ca.issue_server("tls-expired", dns_names=["node.lab.test"], validity=Validity.expired())
    with serve_once(expired) as port, pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _client_handshake(lab_ca, port, "node.lab.test")


def test_cert_from_another_ca_is_rejected(lab_ca: LabCA, rogue_ca: LabCA) -> None:
    foreign = rogue_ca.issue_server("foreign", dns_names=["node.lab.test"])
    with serve_once(foreign) as port, pytest.raises(ssl.SSLCertVerificationError, match="issuer"):
        _client_handshake(lab_ca, port, "node.lab.test")


def test_client_cert_cn_form(lab_ca: LabCA) -> None:
    issued = lab_ca.issue_client("lab-admin")
    cert = issued.certificate()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "lab-admin"
    assert upns_of(cert) == []
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert issued.cert_path.name == "client-lab-admin.pem"


def test_client_cert_upn_form_is_read_by_openssl(lab_ca: LabCA) -> None:
    issued = lab_ca.issue_client("lab-auditor", upn="lab-auditor@lab.securemode.test")
    assert upns_of(issued.certificate()) == ["lab-auditor@lab.securemode.test"]
    out = subprocess.run(
        ["openssl", "x509", "-in", str(issued.cert_path), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "UPN::lab-auditor@lab.securemode.test" in out
    verify = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(lab_ca.root_path),
            "-untrusted",
            str(lab_ca.intermediate_path),
            "-purpose",
            "sslclient",
            str(issued.cert_path),
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _csr(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, cn: str, san: list[x509.GeneralName]) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_sign_csr_keeps_subject_and_sans(lab_ca: LabCA) -> None:
    import ipaddress

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    san: list[x509.GeneralName] = [
        x509.DNSName("conf1.lab.securemode.test"),
        x509.IPAddress(ipaddress.ip_address("127.0.10.2")),
    ]
    pem = lab_ca.sign_csr(_csr(key, "conf1.lab.securemode.test", san), valid_days=30)
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject.rfc4514_string() == "CN=conf1.lab.securemode.test"
    assert cert.issuer == lab_ca.intermediate_cert.subject
    assert list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value) == san
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    cert.verify_directly_issued_by(lab_ca.intermediate_cert)
    assert (lab_ca.directory / "signed" / f"{cert.serial_number:x}.pem").read_bytes() == pem


def test_sign_csr_rejects_bad_input(lab_ca: LabCA) -> None:
    with pytest.raises(ValueError, match="not a PEM certificate signing request"):
        lab_ca.sign_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point of the test
    with pytest.raises(ValueError, match="1024 bits"):
        lab_ca.sign_csr(_csr(weak, "weak", []))
    good = _csr(ec.generate_private_key(ec.SECP256R1()), "x", [])
    tampered = _tamper(good)
    with pytest.raises(ValueError, match="signature does not verify"):
        lab_ca.sign_csr(tampered)


def _tamper(csr_pem: bytes) -> bytes:
    """Change one character of the subject CN inside the DER, keeping the signature: it must not verify."""
    import base64

    body = b"".join(line for line in csr_pem.splitlines() if not line.startswith(b"-----"))
    der = bytearray(base64.b64decode(body))
    idx = der.index(b"\x0c\x01x") + 2  # UTF8String "x" of the CN
    der[idx] = ord("y")
    b64 = base64.encodebytes(bytes(der)).replace(b"\n", b"")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE REQUEST-----\n"


def test_rejects_unsafe_file_names(lab_ca: LabCA) -> None:
    with pytest.raises(ValueError, match="file name"):
        lab_ca.issue_server("../escape", dns_names=["x.test"])
