"""Ensure-operations of the ``auth`` stage (guide: Configure user accounts and authentication settings)."""

from securemode.tasks.auth.client_certificates import ensure_client_certificates
from securemode.tasks.auth.connection import ensure_ldap_connection
from securemode.tasks.auth.roles import ensure_ldap_roles

__all__ = ["ensure_client_certificates", "ensure_ldap_connection", "ensure_ldap_roles"]
