"""Guide: TLS certificates, Trusted CA certificates, Certificate signing requests."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Stage, TargetKind

TLS = "Management Node and Conferencing Node server certificates"
CA = "Trusted CA certificates"
_TASK = "tasks.pki.ensure_node_certificates"


def _node(cid: str, title: str, guide_text: str | None, desired: str, verifier: str,
          target: TargetKind = TargetKind.NODE, severity: ControlSeverity = ControlSeverity.HIGH,
          section: str = TLS, enforced_by: str | None = _TASK) -> Control:
    return Control(id=f"pki.{cid}", title=title, stage=Stage.PKI, section=section, guide_text=guide_text,
                   target=target, desired=desired, severity=severity, enforced_by=enforced_by,
                   verified_by=(verifier,))


CONTROLS: tuple[Control, ...] = (
    _node("cert.trusted", "Node certificate chains to the site's trusted CA (HTTPS 443)", "replace these certificates "
          "with your own certificates that have been signed by a trusted certificate authority",
          "chain verifies to site:pki.trusted_ca_files", "verifiers.tls.check_chain_trusted"),
    _node("cert.name", "Node certificate valid for the node's FQDN", "The certificate must be valid for the hostname "
          "or FQDN of the Management Node or Conferencing Node", "site:<node>.fqdn in SAN",
          "verifiers.tls.check_names"),
    _node("cert.validity", "Node certificate inside its validity window", None,
          "not expired; warn within site:pki.expiry_warning_days", "verifiers.tls.check_validity"),
    _node("cert.key-pair", "Certificate and private key are one key pair", "Certificate and private key do not appear "
          "to be part of the same key pair", "server proves possession of the certificate's key",
          "securemode.stages.pki.check_key_possession"),
    _node("sip-tls-fqdn", "SIP TLS FQDN set and present in the node certificate", "configure a SIP TLS FQDN on each "
          "Conferencing Node that matches one of the entries in the TLS certificate", "site:<node>.sip_tls_fqdn",
          "verifiers.api.check_sip_tls_fqdn", target=TargetKind.CONFERENCING_NODE,
          enforced_by="tasks.pki.ensure_sip_tls_fqdn"),
    _node("sip-tls.trusted", "SIP TLS (5061) certificate chains to the trusted CA", None,
          "chain verifies on site:security_wizard.sip_tls_port", "verifiers.tls.check_chain_trusted",
          target=TargetKind.CONFERENCING_NODE),
    _node("trusted-ca", "Trusted CA chain uploaded (root and intermediates)", "You must also upload the trusted "
          "Certificate Authority (CA) certificates", "site:pki.trusted_ca_files", "verifiers.api.check_trusted_cas",
          target=TargetKind.PLATFORM, section=CA, enforced_by="tasks.pki.ensure_trusted_cas"),
    _node("tls10-refused", "TLS 1.0 refused on HTTPS", "Enable TLS 1.0", "handshake refused",
          "verifiers.tls.check_protocol_refused", enforced_by=None),
    _node("tls11-refused", "TLS 1.1 refused on HTTPS", None, "handshake refused",
          "verifiers.tls.check_protocol_refused", enforced_by=None, severity=ControlSeverity.MEDIUM),
    _node("tls12-accepted", "TLS 1.2 accepted on HTTPS", None, "handshake completes",
          "verifiers.tls.check_protocol_accepted", enforced_by=None, severity=ControlSeverity.MEDIUM),
    _node("anon-dh-refused", "Anonymous DH refused on SIP TLS", "Enable Anonymous DH for outbound SIP/TLS",
          "ADH-only handshake refused", "verifiers.tls.check_anon_dh_refused", target=TargetKind.CONFERENCING_NODE,
          enforced_by=None),
)
