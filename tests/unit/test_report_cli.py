"""`securemode report`: re-render any format from report.json; write a signed evidence bundle and check it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from securemode.reports import write_reports
from tests.assessor.reports import mixed_report
from tests.unit.sites import example_document, write_site
from tests.unit.test_cli import run


def report_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    write_reports(mixed_report(), folder, ["json"])
    return folder


def signed_site(tmp_path: Path) -> tuple[Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "evidence.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    document = example_document()
    document["evidence_signing_key"] = "file:evidence.pem"
    return write_site(tmp_path, document), key


def test_render_writes_exactly_the_formats_asked(tmp_path: Path) -> None:
    source = report_dir(tmp_path) / "report.json"
    proc = run("report", str(source), "--out", str(tmp_path / "a"), "--format", "hdf,cklb")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["esxi01.cklb", "esxi02.cklb", "report.hdf.json"]
    hdf = json.loads((tmp_path / "a" / "report.hdf.json").read_text())
    assert hdf["profiles"][0]["controls"][0]["tags"]["section"] == "Securing the host environment"
    proc = run("report", str(source), "--out", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    assert {"report.json", "junit.xml", "report.html", "report.hdf.json", "esxi01.cklb"} <= {
        p.name for p in (tmp_path / "b").iterdir()}


def test_unknown_format_is_named(tmp_path: Path) -> None:
    proc = run("report", str(report_dir(tmp_path) / "report.json"), "--out", str(tmp_path / "a"), "--format",
               "json,pdf")
    assert proc.returncode == 2
    assert "unknown format 'pdf'" in proc.stderr and "json,junit,html,hdf,cklb" in proc.stderr
    assert not (tmp_path / "a").exists()


def test_bundle_intact_passes_and_a_tampered_file_is_named(tmp_path: Path) -> None:
    site, key = signed_site(tmp_path)
    folder = report_dir(tmp_path)
    bundle = tmp_path / "evidence.zip"
    proc = run("report", "bundle", str(folder), "--site", str(site), "--out", str(bundle))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        site_text = z.read("site/site.yaml").decode()
    assert {"manifest.json", "manifest.sig", "reports/report.json", "reports/report.hdf.json", "reports/junit.xml",
            "reports/report.html", "reports/esxi01.cklb", "site/site.yaml"} <= names
    assert "env:SM_ADMIN_PASSWORD" in site_text and "admin-secret-Q2" not in site_text  # references only
    public = tmp_path / "evidence.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    proc = run("report", "check", str(bundle), "--public-key", str(public))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "intact" in proc.stdout and "trusted key" in proc.stdout

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "reports/report.html":
                data = data.replace(b"NOT COMPLIANT", b"COMPLIANT")
            dst.writestr(name, data)
    proc = run("report", "check", str(tampered), "--public-key", str(public))
    assert proc.returncode == 1
    assert "ALTERED: reports/report.html" in proc.stdout
    assert "ALTERED: reports/report.json" not in proc.stdout


def test_a_re_signed_manifest_fails_against_the_trusted_key(tmp_path: Path) -> None:
    site, key = signed_site(tmp_path)
    bundle = tmp_path / "evidence.zip"
    assert run("report", "bundle", str(report_dir(tmp_path)), "--site", str(site), "--out",
               str(bundle)).returncode == 0
    (tmp_path / "other").mkdir()
    other_site, _ = signed_site(tmp_path / "other")  # someone else's key signs a bundle of their own
    forged = tmp_path / "forged.zip"
    proc = run("report", "bundle", str(report_dir(tmp_path / "other")), "--site", str(other_site), "--out",
               str(forged))
    assert proc.returncode == 0, proc.stderr
    public = tmp_path / "evidence.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    proc = run("report", "check", str(forged), "--public-key", str(public))
    assert proc.returncode == 1 and "SIGNATURE INVALID" in proc.stdout


def test_bundle_without_a_key_in_the_site_says_how_to_add_one(tmp_path: Path) -> None:
    site = write_site(tmp_path, example_document())
    proc = run("report", "bundle", str(report_dir(tmp_path)), "--site", str(site))
    assert proc.returncode == 2
    assert "evidence_signing_key" in proc.stderr and "openssl genpkey -algorithm ed25519" in proc.stderr
