"""In-memory web sessions with idle expiry and the securitywizard's global / per-user limits.

With ``publish_to`` the table (user and age of each open session, never a session id) is written to a
JSON file after every change, so a test outside the twin's process can see which sessions are open.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from securemode.infra.twin.auth.authenticator import Principal


@dataclass
class Session:
    sid: str
    principal: Principal
    created: float
    last_seen: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


class SessionLimitReached(Exception):
    """Refused: too many active sessions (globally or for this user)."""


class SessionStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic, publish_to: Path | None = None) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._publish_to = publish_to
        self._publish()

    def _publish(self) -> None:
        """Write the session table (users and ages only) to ``publish_to``; call with the lock held."""
        if self._publish_to is None:
            return
        now = self._clock()
        table = {"count": len(self._sessions),
                 "sessions": [{"user": s.principal.username, "age_s": round(now - s.created, 3)}
                              for s in self._sessions.values()]}
        tmp = self._publish_to.with_name(self._publish_to.name + ".tmp")
        tmp.write_text(json.dumps(table), encoding="utf-8")
        os.replace(tmp, self._publish_to)

    def _purge(self, idle_timeout_s: float | None) -> None:
        if idle_timeout_s is None:
            return
        now = self._clock()
        expired = [s.sid for s in self._sessions.values() if now - s.last_seen > idle_timeout_s]
        for sid in expired:
            del self._sessions[sid]
        if expired:
            self._publish()

    def create(
        self, principal: Principal, idle_timeout_s: float | None, max_total: int, max_per_user: int, evict: bool
    ) -> Session:
        """A new session, or SessionLimitReached; limits of 0 mean unlimited."""
        with self._lock:
            self._purge(idle_timeout_s)
            mine = sorted(
                (s for s in self._sessions.values() if s.principal.username == principal.username),
                key=lambda s: s.last_seen,
            )
            everyone = sorted(self._sessions.values(), key=lambda s: s.last_seen)
            if max_per_user and len(mine) >= max_per_user:
                if not evict:
                    raise SessionLimitReached("per-user")
                del self._sessions[mine[0].sid]
                everyone = [s for s in everyone if s.sid != mine[0].sid]
            if max_total and len(everyone) >= max_total:
                if not evict:
                    raise SessionLimitReached("global")
                del self._sessions[everyone[0].sid]
            now = self._clock()
            session = Session(secrets.token_urlsafe(32), principal, now, now)
            self._sessions[session.sid] = session
            self._publish()
            return session

    def get(self, sid: str | None, idle_timeout_s: float | None) -> Session | None:
        """The live session for a cookie value, touching it; expired sessions are dropped."""
        if not sid:
            return None
        with self._lock:
            self._purge(idle_timeout_s)
            session = self._sessions.get(sid)
            if session is not None:
                session.last_seen = self._clock()
            return session

    def delete(self, sid: str | None) -> None:
        with self._lock:
            if self._sessions.pop(sid or "", None) is not None:
                self._publish()

    def count(self, idle_timeout_s: float | None = None) -> int:
        with self._lock:
            self._purge(idle_timeout_s)
            return len(self._sessions)
