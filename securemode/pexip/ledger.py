"""Remember which write-only secret we last set on which object, without keeping the secret.

The API never returns an NTP key or an SNMP password, so an idempotent task cannot compare them with
the site. Instead, after a successful write the task records a salted, slow digest (PBKDF2-SHA256) of
the value under the object's URI and field; a later run writes the secret again only when the site's
value no longer matches that digest, or when there is no record (a new object, or a state folder that
was lost — then it writes once more and records it). A change made behind the engine's back is not
seen here: the behavioural verifiers (SNMPv3 GET with the site's credentials) catch that, and their FAIL
withdraws the belief: each entry names the (control, target) whose behaviour vouches for it, and
:meth:`WriteOnlyLedger.forget_vouched_by` drops the entries of a control that failed, so the next plan
shows the rewrite and the next run makes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from securemode.pexip import state

_ITERATIONS = 60_000


def _digest(value: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha256", value.encode(), salt, _ITERATIONS).hex()


class WriteOnlyLedger:
    """Digests of write-only secrets, keyed by ``<node address><resource uri>#<field>``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def matches(self, key: str, value: str) -> bool:
        """True when ``value`` is what we recorded for ``key``."""
        entry = state.read_json(self.path).get(key)
        if not isinstance(entry, dict):
            return False
        salt = bytes.fromhex(str(entry.get("salt", "")))
        return hmac.compare_digest(str(entry.get("digest", "")), _digest(value, salt))

    def record(self, key: str, value: str, vouched_by: tuple[str, str] | None = None) -> None:
        """Remember ``value`` for ``key``; ``vouched_by`` is the (control, target) whose behavioural
        verifier proves the value works (its FAIL withdraws this entry)."""
        data = state.read_json(self.path)
        salt = secrets.token_bytes(16)
        entry: dict[str, str] = {"salt": salt.hex(), "digest": _digest(value, salt)}
        if vouched_by is not None:
            entry["control"], entry["target"] = vouched_by
        data[key] = entry
        state.write_json(self.path, data)

    def forget_vouched_by(self, failed: set[tuple[str, str]]) -> list[str]:
        """Drop every entry whose (control, target) is in ``failed``; returns the keys dropped."""
        if not failed or not self.path.exists():
            return []
        data = state.read_json(self.path)
        gone = [k for k, e in data.items()
                if isinstance(e, dict) and (e.get("control"), e.get("target")) in failed]
        for key in gone:
            del data[key]
        if gone:
            state.write_json(self.path, data)
        return gone

    def forget(self, key: str) -> None:
        data = state.read_json(self.path)
        if data.pop(key, None) is not None:
            state.write_json(self.path, data)
