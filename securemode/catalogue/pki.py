"""Guide: TLS certificates, Trusted CA certificates, Certificate signing requests."""

from __future__ import annotations

from securemode.catalogue.model import Control, ControlSeverity, Flag, Stage, TargetKind

TLS = "Management Node and Conferencing Node server certificates"
CA = "Trusted CA certificates"


def _node(cid: str, title: str, guide_text: str | None, desired: str,
          target: TargetKind = TargetKind.NODE, severity: ControlSeverity = ControlSeverity.HIGH,
          section: str = TLS, flags: frozenset[Flag] = frozenset()) -> Control:
    return Control(id=f"pki.{cid}", title=title, stage=Stage.PKI, section=section, guide_text=guide_text,
                   target=target, desired=desired, severity=severity, flags=flags)


# The protocol rows are set by the security wizard (bootstrap); the pki stage only proves them on the wire.
_WIRE_ONLY = frozenset({Flag.VERIFY_ONLY})


CONTROLS: tuple[Control, ...] = (
    _node("cert.trusted", "Node certificate chains to the site's trusted CA (HTTPS 443)", "replace these certificates "
          "with your own certificates that have been signed by a trusted certificate authority",
          "chain verifies to site:pki.trusted_ca_files"),
    _node("cert.name", "Node certificate valid for the node's FQDN", "The certificate must be valid for the hostname "
          "or FQDN of the Management Node or Conferencing Node", "site:<node>.fqdn in SAN"),
    _node("cert.validity", "Node certificate inside its validity window", None,
          "not expired; warn within site:pki.expiry_warning_days"),
    _node("cert.key-pair", "Certificate and private key are one key pair", "Certificate and private key do not appear "
          "to be part of the same key pair", "server proves possession of the certificate's key"),
    _node("sip-tls-fqdn", "SIP TLS FQDN set and present in the node certificate", "configure a SIP TLS FQDN on each "
          "Conferencing Node that matches one of the entries in the TLS certificate", "site:<node>.sip_tls_fqdn",
          target=TargetKind.CONFERENCING_NODE),
    _node("sip-tls.trusted", "SIP TLS (5061) certificate chains to the trusted CA", None,
          "chain verifies on site:security_wizard.sip_tls_port",
          target=TargetKind.CONFERENCING_NODE),
    _node("trusted-ca", "Trusted CA chain uploaded (root and intermediates)", "You must also upload the trusted "
          "Certificate Authority (CA) certificates", "site:pki.trusted_ca_files",
          target=TargetKind.PLATFORM, section=CA),
    _node("tls10-refused", "TLS 1.0 refused on HTTPS", "Enable TLS 1.0", "handshake refused", flags=_WIRE_ONLY),
    _node("tls11-refused", "TLS 1.1 refused on HTTPS", None, "handshake refused", severity=ControlSeverity.MEDIUM,
          flags=_WIRE_ONLY),
    _node("tls12-accepted", "TLS 1.2 accepted on HTTPS", None, "handshake completes", severity=ControlSeverity.MEDIUM,
          flags=_WIRE_ONLY),
    _node("anon-dh-refused", "Anonymous DH refused on SIP TLS", "Enable Anonymous DH for outbound SIP/TLS",
          "ADH-only handshake refused", target=TargetKind.CONFERENCING_NODE, flags=_WIRE_ONLY),
)
