"""A CA-signed server certificate on the Management Node and every Conferencing Node.

Per node: read the certificate assigned to it → if it chains to the site's CAs, covers the node's
names and is valid beyond ``pki.expiry_warning_days``, leave it; otherwise

* ``csr_on_node: true``: create a CSR on the node (its key never leaves it), reusing a pending CSR for
  the same names, have the CA adapter sign it, complete the CSR with the signed certificate and its
  chain (the node turns it into a TLS certificate and deletes the CSR);
* ``csr_on_node: false`` (the CN must be the node's IP address): make the key and CSR here, keep the
  key 0600 in the state folder, and upload certificate + key as a TLS certificate;

then assign the certificate to the node. Conferencing Nodes go first and the Management Node last,
because replacing its certificate changes how the engine trusts it (the next session uses the CA).
A manual CA that has not handed the certificate back yet leaves the node unchanged and says so.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pydantic import SecretStr

from securemode.ca_adapters import CaAdapter, CertificateProvider, SigningRequest, adapter_for
from securemode.ca_adapters.base import SignedCertificate
from securemode.engine import Change, Deferred, EngineContext, Planned, StepPlan, plan_of
from securemode.pexip import certificates as certs
from securemode.pexip.client import ManagementApi, config_uri
from securemode.pexip.connect import management_api
from securemode.pexip.errors import PexipError
from securemode.pexip.models import SigningRequest as CsrObject
from securemode.pexip.models import SigningRequestCreate, TlsCertificate, TlsCertificateCreate
from securemode.pexip.nodes import PlacedNode, conferencing_first, placed_nodes
from securemode.pexip.state import safe_name, subdir, write_private
from securemode.site import NodeCommon, Pki
from securemode.site_loader import LoadedSite


# reading ------------------------------------------------------------------------------------------------
def assigned_certificate(api: ManagementApi, placed: PlacedNode) -> TlsCertificate | None:
    vm = placed.vm
    if vm is None or not vm.tls_certificate:
        return None
    return api.read(TlsCertificate, vm.tls_certificate)


def assess_node(api: ManagementApi, placed: PlacedNode, anchors: list[str], pki: Pki) -> certs.Assessment:
    current = assigned_certificate(api, placed)
    if current is None:
        return certs.missing_certificate("no certificate assigned")
    return certs.assess(current.certificate, anchors, certs.required_names(placed.node, pki), pki.expiry_warning_days)


def pending_csrs(api: ManagementApi, cn: str) -> list[CsrObject]:
    """CSRs on the node for this subject name (left by an earlier, unfinished run)."""
    return api.list_objects(CsrObject, "certificate_signing_request", subject_name=cn)


def usable(csr: CsrObject, names: list[str], key_type: str) -> bool:
    """Whether a pending CSR asks for these names with this key type (else it is stale)."""
    return bool(csr.csr) and csr.private_key_type == key_type and set(certs.csr_names(csr.csr)) >= set(names)


def local_key_path(loaded: LoadedSite, node: NodeCommon) -> Path:
    return subdir(loaded, "keys") / f"{safe_name(node.name)}.key"


# changing -----------------------------------------------------------------------------------------------
def _csr_on_node(api: ManagementApi, adapter: CaAdapter, node: NodeCommon, pki: Pki) -> str | None:
    """Sign a node-made CSR and complete it; the URI of the resulting TLS certificate, or None (waiting)."""
    cn, names = certs.common_name(node, pki), certs.required_names(node, pki)
    csr: CsrObject | None = None
    for pending in pending_csrs(api, cn):
        if csr is None and usable(pending, names, pki.key_type.value):
            csr = pending
        else:
            api.delete(pending.resource_uri)  # stale: other names or key type (a CSR cannot be modified)
    if csr is None:
        extra = ",".join(n for n in names if n != cn.lower())
        uri = api.create("certificate_signing_request", SigningRequestCreate(
            subject_name=cn, additional_subject_alt_names=extra, private_key_type=pki.key_type.value).body())
        csr = api.read(CsrObject, uri)
    signed = adapter.sign(SigningRequest(node.name, cn, tuple(names), csr.csr))
    if signed is None:
        return None
    api.patch(csr.resource_uri, {"certificate": signed.bundle()})
    return _find_certificate(api, signed)


def _csr_here(
    api: ManagementApi, adapter: CaAdapter, loaded: LoadedSite, node: NodeCommon, pki: Pki
) -> str | None:
    """Key and CSR made locally (CN = IP address); upload certificate + key; None while waiting."""
    path = local_key_path(loaded, node)
    key = certs.load_private_key(path.read_bytes()) if path.exists() else None
    if key is None or certs.key_type_of(key) is not pki.key_type:
        key = certs.new_private_key(pki.key_type)
        write_private(path, certs.private_key_pem(key))
    cn, names = certs.common_name(node, pki), certs.required_names(node, pki)
    csr_pem = certs.build_csr(key, cn, names)
    signed = adapter.sign(SigningRequest(node.name, cn, tuple(names), csr_pem))
    if signed is None:
        return None
    body = TlsCertificateCreate(certificate=signed.bundle(),
                                private_key=SecretStr(certs.private_key_pem(key).decode())).body()
    return api.create("tls_certificate", body)


def _find_certificate(api: ManagementApi, signed: SignedCertificate) -> str:
    """The TLS certificate object the completed CSR became (matched by its leaf)."""
    want = certs.split_pem(signed.certificate_pem)[0].strip()
    for cert in api.list_objects(TlsCertificate, "tls_certificate"):
        blocks = certs.split_pem(cert.certificate)
        if blocks and blocks[0].strip() == want:
            return cert.resource_uri or config_uri("tls_certificate", cert.id)
    raise PexipError("the CSR was completed but no TLS certificate holds the signed certificate")


class Issuer:
    """Gets a node a signed certificate and assigns it; the CA adapter is made once, on the first write."""

    def __init__(self, api: ManagementApi, loaded: LoadedSite, provider: CertificateProvider | None) -> None:
        self.api, self.loaded, self.provider = api, loaded, provider
        self._adapter: CaAdapter | None = None

    def issue(self, placed: PlacedNode) -> Deferred | None:
        vm = placed.require()
        pki = self.loaded.site.pki
        adapter = self._adapter = self._adapter or adapter_for(self.loaded, self.provider)
        uri = _csr_on_node(self.api, adapter, placed.node, pki) if pki.csr_on_node else _csr_here(
            self.api, adapter, self.loaded, placed.node, pki)
        if uri is None:
            return Deferred(f"pki {placed.node.name}: waiting for the signed certificate ({adapter.name} CA)")
        self.api.patch(vm.resource_uri, {"tls_certificate": uri})
        return None


@dataclass(frozen=True)
class NodeCertificate:
    """Facts of one node: its object on the platform and how its certificate assesses (None: no object)."""

    placed: PlacedNode
    verdict: certs.Assessment | None


def plan_node_certificates(nodes: list[NodeCertificate], pki: Pki, issuer: Issuer) -> list[Planned]:
    """A new certificate for every node whose certificate is not good, Conferencing Nodes first."""
    planned: list[Planned] = []
    for fact in nodes:
        node, verdict = fact.placed.node, fact.verdict
        if verdict is not None and verdict.good:
            continue
        desired = {"chains_to": "site:pki.trusted_ca_files", "names": certs.required_names(node, pki),
                   "valid_beyond_days": pki.expiry_warning_days}
        current = verdict.summary() if verdict else "node not on the Management Node"
        control = verdict.control if verdict else certs.TRUSTED
        planned.append(Planned(action=partial(issuer.issue, fact.placed), changes=(
            Change(control=control, target=node.name, setting="tls_certificate", current=current,
                   desired=desired),)))
    return planned


def ensure_node_certificates(ctx: EngineContext, resources: ExitStack) -> StepPlan:
    loaded = ctx.site
    pki = loaded.site.pki
    anchors = certs.read_ca_files([loaded.resolve_path(p) for p in pki.trusted_ca_files])
    provider = ctx.gate if isinstance(ctx.gate, CertificateProvider) else None
    api = resources.enter_context(management_api(loaded))
    facts = [NodeCertificate(placed, assess_node(api, placed, anchors, pki) if placed.vm else None)
             for placed in conferencing_first(placed_nodes(api, loaded.site))]
    return plan_of(*plan_node_certificates(facts, pki, Issuer(api, loaded, provider)))
