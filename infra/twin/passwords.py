"""Django-compatible pbkdf2_sha256 hashes: the form the real node stores the web admin password in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def make_password(password: str, iterations: int = 36000, salt: str | None = None) -> str:
    """Return `pbkdf2_sha256$<iterations>$<salt>$<b64>` for password."""
    salt = salt or secrets.token_urlsafe(9)[:12]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def check_password(password: str, encoded: str) -> bool:
    """Constant-time check of password against a Django pbkdf2_sha256 hash; False for any other form."""
    try:
        algorithm, iterations, salt, b64 = encoded.split("$", 3)
        if algorithm != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(base64.b64encode(digest).decode(), b64)
