"""Evidence bundle: every report format, the site file (it holds secret references only) and a manifest of
SHA-256 digests signed with the site's Ed25519 key, in one zip an assessor can check file by file.

Reading the bundle (:func:`check_bundle`) is separate from writing it (:func:`write_bundle`).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from securemode.reports import FORMATS, render_reports
from securemode.reports.history import HistoryPoint
from securemode.reports.model import Report

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


class Manifest(BaseModel):
    """What the bundle holds: each file's SHA-256, who made it, and the public key that signed it."""

    model_config = ConfigDict(extra="forbid")

    site: str
    created_at: datetime
    report_generated_at: datetime
    files: dict[str, str] = Field(description="Path in the bundle → SHA-256 (hex) of its bytes.")
    public_key: str = Field(description="The signer's Ed25519 public key (PEM).")


class BundleCheck(BaseModel):
    """The outcome of checking a bundle: intact only when every list is empty and the signature holds."""

    signature_valid: bool
    altered: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    unexpected: list[str] = Field(default_factory=list)
    key_source: str

    @property
    def intact(self) -> bool:
        return self.signature_valid and not (self.altered or self.missing or self.unexpected)


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the evidence signing key is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def write_bundle(report: Report, site_file: Path, key: Ed25519PrivateKey, out: Path,
                 history: list[HistoryPoint] | None = None) -> Manifest:
    """Write the zip: reports/<every format>, site/<site file>, the manifest and its signature."""
    files = {f"reports/{name}": text.encode() for name, text in render_reports(report, FORMATS, history).items()}
    files[f"site/{site_file.name}"] = site_file.read_bytes()
    manifest = Manifest(site=report.site, created_at=datetime.now(UTC), report_generated_at=report.generated_at,
                        files={name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
                        public_key=public_pem(key.public_key()))
    body = manifest.model_dump_json(indent=2).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, body)
        bundle.writestr(SIGNATURE, base64.b64encode(key.sign(body)) + b"\n")
    return manifest


def check_bundle(path: Path, trusted_public_key: str | None = None) -> BundleCheck:
    """Verify the manifest's signature and every file's digest; name what was altered, added or removed.

    Without a trusted public key the manifest's own key is used: that proves the files match the manifest,
    not who signed it (the result says which key was used).
    """
    with zipfile.ZipFile(path) as bundle:
        body = bundle.read(MANIFEST)
        signature = base64.b64decode(bundle.read(SIGNATURE))
        manifest = Manifest.model_validate_json(body)
        names = set(bundle.namelist()) - {MANIFEST, SIGNATURE}
        altered = sorted(n for n in names & set(manifest.files)
                         if hashlib.sha256(bundle.read(n)).hexdigest() != manifest.files[n])
    pem = trusted_public_key or manifest.public_key
    public = serialization.load_pem_public_key(pem.encode())
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    try:
        public.verify(signature, body)
        valid = True
    except InvalidSignature:
        valid = False
    return BundleCheck(signature_valid=valid, altered=altered, missing=sorted(set(manifest.files) - names),
                       unexpected=sorted(names - set(manifest.files)),
                       key_source="the trusted key given" if trusted_public_key else "the key in the manifest "
                       "(proves integrity, not who signed)")
