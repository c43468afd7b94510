"""Process-wide registry of secret values, so that no text we emit can carry one.

Every secret resolved through :mod:`securemode.secrets` is registered here; reports, transcripts,
log records and error messages pass through :func:`redact` before they leave the process.
"""

from __future__ import annotations

import threading

MASK = "***"
_MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret value so later output is scrubbed of it."""
    if len(value) < _MIN_SECRET_LEN:
        # Too short to scrub without mangling ordinary text; validation rejects such secrets anyway.
        return
    with _lock:
        _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def clear_registry() -> None:
    """Forget all secrets (tests only)."""
    with _lock:
        _secrets.clear()


def registered() -> frozenset[str]:
    """The secrets registered so far (tests: to undo one test's registrations after it)."""
    with _lock:
        return frozenset(_secrets)


def forget_all_but(keep: frozenset[str]) -> None:
    """Forget every secret not in ``keep`` (tests only: a test's own secrets must not mask the next test's text)."""
    with _lock:
        _secrets.intersection_update(keep)
