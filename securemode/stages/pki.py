"""Stage ``pki``: trusted CA chain, a CA-signed certificate on every node, SIP TLS FQDNs.

Verify: API read-back (trusted CAs, SIP TLS FQDN) and TLS as a client sees it on 443 of every node
and on the SIP TLS port of every Conferencing Node (chain, names, validity, key possession, protocol
versions, anonymous DH).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from securemode.catalogue import Stage
from securemode.engine import EnsureStep, StageSpec
from securemode.parallel import Probe, run_probes
from securemode.pexip.certificates import required_names
from securemode.pexip.errors import TransientApiError
from securemode.pexip.state import safe_name, site_dir
from securemode.pexip.trust import site_ca_bundle
from securemode.results import Result, probe
from securemode.site import ConferencingNode, NodeCommon
from securemode.site_loader import LoadedSite
from tasks.pki import ensure_node_certificates, ensure_sip_tls_fqdn, ensure_trusted_cas
from verifiers import tls
from verifiers.api import readback_pki

HTTPS_PORT = 443
_TRANSIENT = (TransientApiError,)


def check_key_possession(control: str, target: str, host: str, port: int, server_name: str) -> Result:
    """PASS when a handshake completes with a certificate: the server signed (or decrypted) with the
    private key of the certificate it presented, so certificate and key are one pair."""
    with probe(control, target, expected="server proves possession of the certificate's key") as p:
        hs = tls.handshake(host, port, tls.inspecting_context(), server_name=server_name)
        p.log(f"handshake {'completed' if hs.completed else 'failed'}: {hs.protocol} {hs.cipher} {hs.failure or ''}")
        if hs.completed and hs.cert_der is None:
            p.failed(hs.evidence(), "no certificate presented (anonymous suite)")
        elif hs.completed:
            p.passed(hs.evidence())
        elif hs.cert_der is not None and hs.server_hello_version is not None:
            p.failed(hs.evidence(), f"the server presented a certificate but the handshake failed: {hs.failure}")
        else:
            p.error(f"handshake did not get as far as the certificate: {hs.failure}", hs.evidence())
    return p.result


def _local_key(loaded: LoadedSite, node: NodeCommon) -> Path | None:
    path = site_dir(loaded) / "keys" / f"{safe_name(node.name)}.key"
    return path if not loaded.site.pki.csr_on_node and path.exists() else None


def _node_probes(loaded: LoadedSite, node: NodeCommon, bundle: str) -> list[Probe]:
    """One independent probe per control of this node; they run concurrently (see securemode.parallel)."""
    site = loaded.site
    host, name = str(node.address), node.fqdn
    probes: list[Probe] = [
        partial(tls.check_chain_trusted, "pki.cert.trusted", node.name, host, HTTPS_PORT, bundle, server_name=name),
        partial(tls.check_names, "pki.cert.name", node.name, host, HTTPS_PORT, required_names(node, site.pki),
                server_name=name),
        partial(tls.check_validity, "pki.cert.validity", node.name, host, HTTPS_PORT, site.pki.expiry_warning_days,
                server_name=name),
    ]
    key = _local_key(loaded, node)
    if key is not None:
        probes.append(partial(tls.check_key_matches, "pki.cert.key-pair", node.name, host, HTTPS_PORT,
                              key.read_text(encoding="ascii"), server_name=name))
    else:
        probes.append(partial(check_key_possession, "pki.cert.key-pair", node.name, host, HTTPS_PORT, name))
    probes += [
        partial(tls.check_protocol_refused, "pki.tls10-refused", node.name, host, HTTPS_PORT, tls.TlsVersion.TLS1_0,
                server_name=name),
        partial(tls.check_protocol_refused, "pki.tls11-refused", node.name, host, HTTPS_PORT, tls.TlsVersion.TLS1_1,
                server_name=name),
        partial(tls.check_protocol_accepted, "pki.tls12-accepted", node.name, host, HTTPS_PORT,
                tls.TlsVersion.TLS1_2, server_name=name),
    ]
    if isinstance(node, ConferencingNode):
        sip_port, sip_name = site.security_wizard.sip_tls_port, node.sip_tls_fqdn or name
        probes += [
            partial(tls.check_chain_trusted, "pki.sip-tls.trusted", node.name, host, sip_port, bundle,
                    server_name=sip_name),
            partial(tls.check_anon_dh_refused, "pki.anon-dh-refused", node.name, host, sip_port,
                    server_name=sip_name),
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
