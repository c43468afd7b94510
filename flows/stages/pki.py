"""Stage ``pki``: trusted CA chain, a CA-signed certificate on every node, SIP TLS FQDNs.

Verify: API read-back (trusted CAs, SIP TLS FQDN) and TLS as a client sees it on 443 of every node
and on the SIP TLS port of every Conferencing Node (chain, names, validity, key possession, protocol
versions, anonymous DH).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from securemode.binding import Binding, Call, Planned, Proof, Target, call, checked, planned
from securemode.catalogue import BY_ID, Stage
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.parallel import Probe, run_probes
from securemode.pexip.certificates import NAMES, TRUSTED, VALIDITY, read_ca_files, required_names
from securemode.pexip.connect import management_api
from securemode.pexip.errors import TransientApiError
from securemode.pexip.state import safe_name, site_dir
from securemode.pexip.trust import site_ca_bundle
from securemode.results import Result, probe
from securemode.site import ConferencingNode, NodeCommon, Site
from securemode.site_loader import LoadedSite
from securemode.targets import resolver
from securemode.tasks.pki import ensure_node_certificates, ensure_sip_tls_fqdn, ensure_trusted_cas
from securemode.tasks.pki.sip_tls import CONTROL as SIP_TLS_FQDN
from securemode.tasks.pki.trusted_cas import CONTROL as TRUSTED_CA
from securemode.verifiers import api, tls
from securemode.verifiers.api import ApiReader, combine

HTTPS_PORT = 443
_TRANSIENT = (TransientApiError,)


def _local_key(loaded: LoadedSite, node: NodeCommon) -> Path | None:
    path = site_dir(loaded) / "keys" / f"{safe_name(node.name)}.key"
    return path if not loaded.site.pki.csr_on_node and path.exists() else None


def check_key_pair(control: str, target: str, loaded: LoadedSite, node: NodeCommon) -> Result:
    """The served certificate matches the key the engine made, when it has it; else the server proves
    possession of the certificate's key in the handshake."""
    https = Endpoint(str(node.address), HTTPS_PORT, server_name=node.fqdn)
    key = _local_key(loaded, node)
    if key is not None:
        return tls.check_key_matches(control, target, https, key.read_text(encoding="ascii"))
    return tls.check_key_possession(control, target, https)


def check_sip_tls_fqdn(control: str, target: str, reader: ApiReader, node: ConferencingNode, site: Site) -> Result:
    """The node's SIP TLS FQDN read back (not applicable when the site gives none)."""
    if not node.sip_tls_fqdn:
        with probe(control, target) as p:
            p.not_applicable("the site gives no sip_tls_fqdn")
        return p.result
    return api.check_sip_tls_fqdn(control, target, reader, lambda: api.node_object(reader, node, site),
                                  node.sip_tls_fqdn)


@dataclass(frozen=True)
class PkiProbe:
    """What a pki verifier needs: the site, its CA bundle, and (for read-backs) one fresh API session."""

    loaded: LoadedSite
    bundle: str
    reader: ApiReader | None = None

    @property
    def api(self) -> ApiReader:
        if self.reader is None:
            raise RuntimeError("a read-back ran outside the API session")
        return self.reader


def _https(ctx: PkiProbe, t: Target, *extra: object) -> Call:
    node = t.subject
    return call(Endpoint(str(node.address), HTTPS_PORT, server_name=node.fqdn, ca_file=ctx.bundle), *extra)


def _sip_tls(ctx: PkiProbe, t: Target, *extra: object) -> Call:
    node, port = t.subject, ctx.loaded.site.security_wizard.sip_tls_port
    return call(Endpoint(str(node.address), port, server_name=node.sip_tls_fqdn or node.fqdn, ca_file=ctx.bundle),
                *extra)


STEPS = {step.name: step for step in (
    EnsureStep("trusted-ca-certificates", ensure_trusted_cas, transient_errors=_TRANSIENT),
    EnsureStep("node-certificates", ensure_node_certificates, transient_errors=_TRANSIENT),
    EnsureStep("sip-tls-fqdn", ensure_sip_tls_fqdn, transient_errors=_TRANSIENT),
)}
_CERTS = STEPS["node-certificates"]


def _bind(control: str, fix: EnsureStep | None, verifier: Callable[..., Result],
          arguments: Callable[[PkiProbe, Target], Call]) -> Binding[PkiProbe]:
    return Binding(BY_ID[control], fix, (Proof(verifier, arguments),))


# Read back through the Management API, on one session, in order.
API_BINDINGS: tuple[Binding[PkiProbe], ...] = (
    _bind(TRUSTED_CA, STEPS["trusted-ca-certificates"], api.check_trusted_cas, lambda ctx, _t: call(
        ctx.api, read_ca_files([ctx.loaded.resolve_path(p) for p in ctx.loaded.site.pki.trusted_ca_files]))),
    _bind(SIP_TLS_FQDN, STEPS["sip-tls-fqdn"], check_sip_tls_fqdn,
          lambda ctx, t: call(ctx.api, t.subject, ctx.loaded.site)),
)
# TLS as a client sees it, each probe on its own connection, concurrently.
WIRE_BINDINGS: tuple[Binding[PkiProbe], ...] = (
    _bind(TRUSTED, _CERTS, tls.check_chain_trusted, _https),
    _bind(NAMES, _CERTS, tls.check_names,
          lambda ctx, t: _https(ctx, t, required_names(t.subject, ctx.loaded.site.pki))),
    _bind(VALIDITY, _CERTS, tls.check_validity,
          lambda ctx, t: _https(ctx, t, ctx.loaded.site.pki.expiry_warning_days)),
    _bind("pki.cert.key-pair", _CERTS, check_key_pair, lambda ctx, t: call(ctx.loaded, t.subject)),
    _bind("pki.tls10-refused", None, tls.check_protocol_refused,
          lambda ctx, t: _https(ctx, t, tls.TlsVersion.TLS1_0)),
    _bind("pki.tls11-refused", None, tls.check_protocol_refused,
          lambda ctx, t: _https(ctx, t, tls.TlsVersion.TLS1_1)),
    _bind("pki.tls12-accepted", None, tls.check_protocol_accepted,
          lambda ctx, t: _https(ctx, t, tls.TlsVersion.TLS1_2)),
    _bind("pki.sip-tls.trusted", _CERTS, tls.check_chain_trusted, _sip_tls),
    _bind("pki.anon-dh-refused", None, tls.check_anon_dh_refused, _sip_tls),
)
BINDINGS: tuple[Binding[PkiProbe], ...] = checked(Stage.PKI, tuple(STEPS.values()),
                                                  (*API_BINDINGS, *WIRE_BINDINGS))


def plan(loaded: LoadedSite) -> list[Planned[PkiProbe]]:
    """Read-backs first, then every node's wire checks node by node (the order reports list them)."""
    targets = resolver(loaded.site)
    wire = planned(WIRE_BINDINGS, targets)
    order = {node.name: i for i, node in enumerate(loaded.site.nodes())}
    return [*planned(API_BINDINGS, targets), *sorted(wire, key=lambda item: order[item.target.name])]


def _readbacks(ctx: PkiProbe, items: list[Planned[PkiProbe]]) -> list[Result]:
    reader = ApiReader(lambda: management_api(ctx.loaded))
    try:
        return [item.run(replace(ctx, reader=reader), combine) for item in items]
    finally:
        reader.close()


def verify(loaded: LoadedSite) -> list[Result]:
    ctx = PkiProbe(loaded, str(site_ca_bundle(loaded)))
    items = plan(loaded)
    readbacks = [i for i in items if i.binding in API_BINDINGS]
    probes: list[Probe] = [partial(_readbacks, ctx, readbacks)]
    probes += [partial(i.run, ctx, combine) for i in items if i.binding not in API_BINDINGS]
    return run_probes(probes)


SPEC = StageSpec(stage=Stage.PKI, steps=tuple(STEPS.values()), verify=verify)
