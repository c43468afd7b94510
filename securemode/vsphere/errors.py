"""Errors of the vSphere client: each says what failed and where, never with a secret in it."""

from __future__ import annotations


class VSphereError(Exception):
    """Something on the vSphere side failed."""


class VSphereConnectError(VSphereError, ConnectionError):
    """The host did not answer (refused, timed out, TLS broken): usually transient."""


class VSphereTrustError(VSphereError):
    """The host's certificate is not the one the site trusts: never retried, never ignored."""


class VSphereLoginError(VSphereError):
    """The host refused the site's credentials."""


class VSphereNotFound(VSphereError):
    """An inventory object the site names does not exist."""


class VSphereTaskError(VSphereError):
    """A vSphere task or method call ended in a fault."""
