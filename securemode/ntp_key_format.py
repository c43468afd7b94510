"""Whether an NTP key value is one chrony and the Pexip node accept for its algorithm.

Keys are written as chrony's keyfile writes them: ``HEX:<hex digits>`` (exactly the digest length of
the algorithm: SHA1 20 bytes, SHA256 32 bytes) or ASCII text (optionally ``ASCII:``-prefixed) of 1 to
20 printable characters without spaces. Messages describe the problem, never the key.
"""

from __future__ import annotations

from securemode.site import NtpAlgorithm

HEX_KEY_BYTES = {NtpAlgorithm.SHA1: 20, NtpAlgorithm.SHA256: 32}
MAX_ASCII_KEY = 20
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def key_problem(value: str, algorithm: NtpAlgorithm) -> str | None:
    """What is wrong with ``value`` as a key of ``algorithm`` (None when it is fine)."""
    if value[:4].upper() == "HEX:":
        digits = value[4:]
        want = HEX_KEY_BYTES[algorithm]
        if not digits or not set(digits) <= _HEX_DIGITS:
            return "the key after 'HEX:' is not hexadecimal digits"
        if len(digits) != 2 * want:
            return (f"a HEX {algorithm.value} key must be {want} bytes ({2 * want} hex digits), "
                    f"this one has {len(digits)} digits")
        return None
    text = value[6:] if value[:6].upper() == "ASCII:" else value
    if not text:
        return "the key is empty"
    if len(text) > MAX_ASCII_KEY:
        return f"an ASCII key is at most {MAX_ASCII_KEY} characters, this one has {len(text)}"
    if not all(33 <= ord(ch) <= 126 for ch in text):
        return "an ASCII key may hold only printable ASCII characters without spaces"
    return None


FIX = ("give HEX: with 40 hex digits (SHA1) or 64 (SHA256), or 1 to 20 printable ASCII characters, "
       "e.g. `openssl rand -hex 20` for SHA1")
