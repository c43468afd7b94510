"""The engine's vSphere client: trusted connections, inventory look-ups, typed reads, task waiting, OVA import.

Every connection verifies the host against the site's trust (a pinned SHA-256 certificate
fingerprint or a CA file) and fails closed; nothing here trusts a certificate blindly.
"""

from securemode.vsphere.errors import (
    VSphereConnectError,
    VSphereError,
    VSphereLoginError,
    VSphereNotFound,
    VSphereTaskError,
    VSphereTrustError,
)
from securemode.vsphere.session import Endpoint, VSphereSession, host_target, open_session, open_site_session
from securemode.vsphere.waiting import wait_for_task

__all__ = [
    "Endpoint",
    "VSphereConnectError",
    "VSphereError",
    "VSphereLoginError",
    "VSphereNotFound",
    "VSphereSession",
    "VSphereTaskError",
    "VSphereTrustError",
    "host_target",
    "open_session",
    "open_site_session",
    "wait_for_task",
]
