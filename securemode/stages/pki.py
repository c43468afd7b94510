"""Stage ``pki``: trusted CA chain, a CA-signed certificate on every node, SIP TLS FQDNs.

Verify: API read-back (trusted CAs, SIP TLS FQDN) and TLS as a client sees it on 443 of every node
and on the SIP TLS port of every Conferencing Node (chain, names, validity, key possession, protocol
versions, anonymous DH).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from securemode.catalogue import Stage
from securemode.endpoint import Endpoint
from securemode.engine import EnsureStep, StageSpec
from securemode.parallel import Probe, run_probes
from securemode.pexip.certificates import required_names
from securemode.pexip.errors import TransientApiError
from securemode.pexip.state import safe_name, site_dir
from securemode.pexip.trust import site_ca_bundle
from securemode.results import Result
from securemode.site import ConferencingNode, NodeCommon
from securemode.site_loader import LoadedSite
from tasks.pki import ensure_node_certificates, ensure_sip_tls_fqdn, ensure_trusted_cas
from verifiers import tls
from verifiers.api import readback_pki

HTTPS_PORT = 443
_TRANSIENT = (TransientApiError,)


def _local_key(loaded: LoadedSite, node: NodeCommon) -> Path | None:
    path = site_dir(loaded) / "keys" / f"{safe_name(node.name)}.key"
    return path if not loaded.site.pki.csr_on_node and path.exists() else None


def _node_probes(loaded: LoadedSite, node: NodeCommon, bundle: str) -> list[Probe]:
    """One independent probe per control of this node; they run concurrently (see securemode.parallel)."""
    site = loaded.site
    host, name = str(node.address), node.fqdn
    https = Endpoint(host, HTTPS_PORT, server_name=name, ca_file=bundle)
    probes: list[Probe] = [
        partial(tls.check_chain_trusted, "pki.cert.trusted", node.name, https),
        partial(tls.check_names, "pki.cert.name", node.name, https, required_names(node, site.pki)),
        partial(tls.check_validity, "pki.cert.validity", node.name, https, site.pki.expiry_warning_days),
    ]
    key = _local_key(loaded, node)
    if key is not None:
        probes.append(partial(tls.check_key_matches, "pki.cert.key-pair", node.name, https,
                              key.read_text(encoding="ascii")))
    else:
        probes.append(partial(tls.check_key_possession, "pki.cert.key-pair", node.name, https))
    probes += [
        partial(tls.check_protocol_refused, "pki.tls10-refused", node.name, https, tls.TlsVersion.TLS1_0),
        partial(tls.check_protocol_refused, "pki.tls11-refused", node.name, https, tls.TlsVersion.TLS1_1),
        partial(tls.check_protocol_accepted, "pki.tls12-accepted", node.name, https, tls.TlsVersion.TLS1_2),
    ]
    if isinstance(node, ConferencingNode):
        sip_tls = Endpoint(host, site.security_wizard.sip_tls_port, server_name=node.sip_tls_fqdn or name,
                           ca_file=bundle)
        probes += [
            partial(tls.check_chain_trusted, "pki.sip-tls.trusted", node.name, sip_tls),
            partial(tls.check_anon_dh_refused, "pki.anon-dh-refused", node.name, sip_tls),
        ]
    return probes


def verify(loaded: LoadedSite) -> list[Result]:
    bundle = str(site_ca_bundle(loaded))
    probes: list[Probe] = [partial(readback_pki, loaded)]
    for node in loaded.site.nodes():
        probes += _node_probes(loaded, node, bundle)
    return run_probes(probes)


SPEC = StageSpec(
    stage=Stage.PKI,
    steps=(
        EnsureStep("trusted-ca-certificates", ensure_trusted_cas, transient_errors=_TRANSIENT),
        EnsureStep("node-certificates", ensure_node_certificates, transient_errors=_TRANSIENT),
        EnsureStep("sip-tls-fqdn", ensure_sip_tls_fqdn, transient_errors=_TRANSIENT),
    ),
    verify=verify,
)
