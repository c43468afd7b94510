"""A requests adapter that enforces the chosen :data:`~securemode.pexip.trust.Trust` on every connection.

* Pinned: urllib3 compares the SHA-256 of the presented certificate with the pin on every handshake
  (``assert_fingerprint``); the CA check is off because a self-signed certificate has no CA — the pin
  is stricter than a CA check, and a mismatch aborts the connection.
* CA bundle: the chain must verify to the site's CAs and the certificate must be valid for the node's
  FQDN, even though we connect to its IP address (``server_hostname`` for SNI, ``assert_hostname``).
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from securemode.pexip.trust import CaBundle, PinnedFingerprint, Trust


class TrustAdapter(HTTPAdapter):
    """HTTPS adapter bound to one trust decision; never retries by itself (the client does)."""

    def __init__(self, trust: Trust, pool_maxsize: int = 4) -> None:
        self.trust = trust
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        if isinstance(self.trust, PinnedFingerprint):
            pool_kwargs["assert_fingerprint"] = self.trust.sha256
        else:
            pool_kwargs["server_hostname"] = self.trust.server_name
            pool_kwargs["assert_hostname"] = self.trust.server_name
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def trusted_session(trust: Trust) -> requests.Session:
    """A session that speaks HTTPS only, under ``trust``."""
    session = requests.Session()
    session.trust_env = False  # no proxies or CA bundles from the environment
    adapter = TrustAdapter(trust)
    session.mount("https://", adapter)
    session.mount("http://", _RefuseHttp())
    if isinstance(trust, CaBundle):
        session.verify = str(trust.path)
    else:
        # The pin (assert_fingerprint above) is checked on every handshake instead of a CA chain.
        session.verify = False
    return session


class _RefuseHttp(HTTPAdapter):
    """Plain HTTP is never used for the Management API."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.exceptions.InvalidURL("plain HTTP refused: the Management API is HTTPS only")
