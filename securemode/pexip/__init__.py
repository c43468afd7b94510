"""Pexip Infinity Management API client: trust (pin, then CA), sessions with bounded retries,
pagination, typed payloads, clear errors. Start with :func:`securemode.pexip.connect.management_api`.
"""

from securemode.pexip.client import ManagementApi, RetryPolicy, config_uri
from securemode.pexip.errors import ApiError, PexipError, TransientApiError, TrustError, ValidationFailed
from securemode.pexip.trust import CaBundle, PinnedFingerprint, Trust, record_pin

__all__ = [
    "ApiError",
    "CaBundle",
    "ManagementApi",
    "PexipError",
    "PinnedFingerprint",
    "RetryPolicy",
    "TransientApiError",
    "Trust",
    "TrustError",
    "ValidationFailed",
    "config_uri",
    "record_pin",
]
