"""TLS server certificates, trusted CA certificates, and CSRs whose key never leaves the node."""

from __future__ import annotations

from typing import Any

from securemode.infra.twin import pki
from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api import tastypie
from securemode.infra.twin.api.spec import ALL, Behaviour, Ctx, ResourceSpec
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.errors import FieldErrors, error

_PARSED = (
    "start_date",
    "end_date",
    "subject_name",
    "subject_hash",
    "subject_alt_names",
    "raw_subject",
    "issuer_name",
    "issuer_hash",
    "raw_issuer",
    "serial_no",
    "key_id",
    "issuer_key_id",
    "text",
)
_PEM_MAX = 65536


def _parsed_fields(with_usage: bool) -> dict[str, f.Field]:
    out = {name: f.readonly() for name in _PARSED}
    if with_usage:
        out["client_auth_usage"] = f.readonly("boolean", False)
        out["server_auth_usage"] = f.readonly("boolean", False)
    return out


def node_fqdn(node: dict[str, Any]) -> str:
    return f"{node.get('hostname', '')}.{node.get('domain', '')}".strip(".")


def nodes_using(ctx: Ctx, cert_id: int) -> list[dict[str, Any]]:
    nodes = ctx.store.all("management_vm") + ctx.store.all("worker_vm")
    return [n for n in nodes if cert_id in (n.get("tls_certificate"), n.get("tls_client_certificate"))]


class TlsCertificateBehaviour(Behaviour):
    """Keeps the leaf that pairs with the key; refuses a pair that does not match (guide wording)."""

    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        errors = FieldErrors()
        bundle = pki.split_pem(new.get("certificate") or "")
        if not bundle.certificates:
            errors.add("certificate", "No PEM-formatted certificate found.")
            raise errors
        try:
            key = pki.load_private_key(new.get("private_key") or "", new.get("private_key_passphrase") or None)
        except pki.PkiError as exc:
            errors.add("private_key", str(exc))
            raise errors from None
        leaf = next((c for c in bundle.certificates if pki.key_matches(pki.load_certificate(c), key)), None)
        if leaf is None:
            errors.add("certificate", pki.KEY_PAIR_MISMATCH)
            raise errors
        chain = [c for c in bundle.certificates if c != leaf]
        new["certificate"] = "".join([leaf, *chain])
        new["private_key"] = pki.key_pem(key)
        new["private_key_passphrase"] = ""
        if bundle.parameters and not new.get("parameters"):
            new["parameters"] = "".join(bundle.parameters)
        new.update(pki.describe(leaf))

    def before_delete(self, ctx: Ctx, obj: dict[str, Any]) -> None:
        users = nodes_using(ctx, obj["id"])
        if users:
            names = ", ".join(n.get("name", "") for n in users)
            raise error(400, f"Cannot delete a TLS certificate that is assigned to nodes: {names}")

    def render(self, ctx: Ctx, obj: dict[str, Any], out: dict[str, Any]) -> None:
        out["nodes"] = [node_fqdn(n) for n in nodes_using(ctx, obj["id"])]


class CaCertificateBehaviour(Behaviour):
    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        try:
            leaf = pki.split_pem(new.get("certificate") or "").certificates[0]
            new.update({k: v for k, v in pki.describe(leaf).items() if k in _PARSED})
        except (IndexError, pki.PkiError):
            raise FieldErrors({"certificate": ["No PEM-formatted certificate found."]}) from None
        new["certificate"] = leaf


_CSR_IMMUTABLE = ("subject_name", "dn", "additional_subject_alt_names", "private_key_type", "ad_compatible")


class CsrBehaviour(Behaviour):
    """Create generates (or takes) the key and the CSR; PATCHing `certificate` completes the request."""

    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        if old is None:
            self._create(ctx, new)
        else:
            self._update(new, old)

    def _create(self, ctx: Ctx, new: dict[str, Any]) -> None:
        errors = FieldErrors()
        kind = new["private_key_type"]
        key: pki.PrivateKey
        if new.get("tls_certificate"):
            existing = ctx.store.get("tls_certificate", new["tls_certificate"])
            key = pki.load_private_key(existing["private_key"]) if existing else pki.generate_key(kind)
        elif kind == "UPLOAD":
            try:
                key = pki.load_private_key(new.get("private_key") or "", new.get("private_key_passphrase") or None)
            except pki.PkiError as exc:
                errors.add("private_key", str(exc))
                raise errors from None
        else:
            key = pki.generate_key(kind)
        alt = [s.strip() for s in (new.get("additional_subject_alt_names") or "").split(",") if s.strip()]
        try:
            new["csr"] = pki.build_csr(key, new["subject_name"], new.get("dn") or "", alt, bool(new["ad_compatible"]))
        except pki.PkiError as exc:
            errors.add("dn", str(exc))
            raise errors from None
        except ValueError:
            errors.add("subject_name", "Enter a valid subject name.")
            raise errors from None
        new["_key"] = pki.key_pem(key)
        new["private_key"] = ""
        new["private_key_passphrase"] = ""
        new["certificate"] = ""

    def _update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        errors = FieldErrors()
        for name in _CSR_IMMUTABLE:
            if new.get(name) != old.get(name):
                errors.add(name, "A certificate signing request cannot be modified.")
        pem = new.get("certificate") or ""
        if pem and not errors:
            try:
                cert = pki.load_certificate(pem)
            except pki.PkiError as exc:
                errors.add("certificate", str(exc))
                raise errors from None
            if not pki.key_matches(cert, pki.load_private_key(old["_key"])):
                errors.add("certificate", pki.KEY_PAIR_MISMATCH)
        if errors:
            raise errors

    def after_update(self, ctx: Ctx, obj: dict[str, Any], old: dict[str, Any]) -> None:
        pem = obj.get("certificate") or ""
        if not pem:
            return
        spec = ctx.registry.config("tls_certificate")
        cert = tastypie.write(ctx, spec, {"certificate": pem, "private_key": obj["_key"]}, None, partial=False)
        target = obj.get("tls_certificate")
        if target and ctx.store.get("tls_certificate", target):
            ctx.store.put("tls_certificate", target, cert)
        else:
            ctx.store.insert("tls_certificate", cert)
        ctx.store.delete("certificate_signing_request", obj["id"])  # the guide: deleted on completion


def specs(config: TwinConfig) -> list[ResourceSpec]:
    return [
        ResourceSpec(
            "tls_certificate",
            {
                "certificate": f.string(_PEM_MAX, required=True, blank=False),
                "private_key": f.string(12288, write_only=True, required=True),
                "private_key_passphrase": f.string(100, write_only=True),
                "parameters": f.string(_PEM_MAX),
                **_parsed_fields(with_usage=True),
            },
            list_methods=("GET", "POST", "PATCH", "DELETE"),
            detail_methods=("GET", "PATCH", "DELETE"),
            filtering={"subject_name": ALL, "issuer_name": ALL, "serial_no": ALL, "end_date": ALL},
            ordering=("subject_name", "end_date", "start_date"),
            verbose_name="TLS certificate",
            behaviour=TlsCertificateBehaviour(),
        ),
        ResourceSpec(
            "ca_certificate",
            {
                "certificate": f.string(_PEM_MAX, required=True, blank=False),
                "trusted_intermediate": f.boolean(False),
                **_parsed_fields(with_usage=False),
            },
            list_methods=("GET", "POST", "DELETE"),
            detail_methods=("GET", "PATCH", "DELETE"),
            filtering={"subject_name": ALL, "issuer_name": ALL, "serial_no": ALL},
            ordering=("subject_name", "end_date"),
            verbose_name="Trusted CA certificate",
            behaviour=CaCertificateBehaviour(),
        ),
        ResourceSpec(
            "certificate_signing_request",
            {
                "subject_name": f.string(250, required=True, blank=False),
                "dn": f.string(250),
                "additional_subject_alt_names": f.string(4096),
                "private_key_type": f.choice(("RSA2048", "RSA4096", "ECDSAP256", "UPLOAD"), "RSA2048"),
                "private_key": f.string(12288, write_only=True),
                "private_key_passphrase": f.string(100, write_only=True),
                "ad_compatible": f.boolean(False),
                "tls_certificate": f.to_one("tls_certificate"),
                "csr": f.readonly(),
                "certificate": f.string(_PEM_MAX),
            },
            list_methods=("GET", "POST", "DELETE"),
            detail_methods=("GET", "PATCH", "DELETE"),
            filtering={"subject_name": ALL},
            ordering=("subject_name",),
            verbose_name="Certificate signing request",
            behaviour=CsrBehaviour(),
        ),
    ]
