"""Ensure-operations of the ``pki`` stage (guide: TLS certificates, Trusted CA certificates, CSRs)."""

from securemode.tasks.pki.node_certificates import ensure_node_certificates
from securemode.tasks.pki.sip_tls import ensure_sip_tls_fqdn
from securemode.tasks.pki.trusted_cas import ensure_trusted_cas

__all__ = ["ensure_node_certificates", "ensure_sip_tls_fqdn", "ensure_trusted_cas"]
