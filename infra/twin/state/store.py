"""SQLite-backed object store.

One re-entrant lock serialises every transaction, so concurrent API requests never interleave a
read-modify-write; WAL mode lets other processes (node twins) read the same file while we write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  resource TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (resource, id));
CREATE TABLE IF NOT EXISTS counters (resource TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, user TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL);
"""


class Store:
    """Objects per resource as JSON rows; ids are never reused, like Django's autoincrement."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.lock = threading.RLock()
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=10)
        if not readonly:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and one SQLite transaction; nested calls join the outer one."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    # objects ---------------------------------------------------------------------------------------
    def get(self, resource: str, obj_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self._db.execute("SELECT data FROM objects WHERE resource=? AND id=?", (resource, obj_id)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, resource: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._db.execute("SELECT data FROM objects WHERE resource=? ORDER BY id", (resource,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def insert(self, resource: str, data: dict[str, Any]) -> int:
        with self.transaction():
            row = self._db.execute("SELECT last_id FROM counters WHERE resource=?", (resource,)).fetchone()
            new_id = (row[0] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO counters(resource, last_id) VALUES (?, ?)", (resource, new_id))
            data = {**data, "id": new_id}
            self._db.execute(
                "INSERT INTO objects(resource, id, data) VALUES (?, ?, ?)", (resource, new_id, json.dumps(data))
            )
        return new_id

    def put(self, resource: str, obj_id: int, data: dict[str, Any]) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO objects(resource, id, data) VALUES (?, ?, ?)",
                (resource, obj_id, json.dumps({**data, "id": obj_id})),
            )

    def delete(self, resource: str, obj_id: int) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM objects WHERE resource=? AND id=?", (resource, obj_id))

    # key/value -------------------------------------------------------------------------------------
    def get_kv(self, key: str) -> Any:
        with self.lock:
            row = self._db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_kv(self, key: str, value: Any) -> None:
        with self.transaction():
            self._db.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # audit -----------------------------------------------------------------------------------------
    def audit(self, user: str, action: str, detail: str) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO audit(ts, user, action, detail) VALUES (?, ?, ?, ?)",
                (time.time(), user, action, detail),
            )

    def audit_events(self, after_seq: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT seq, ts, user, action, detail FROM audit WHERE seq > ? ORDER BY seq", (after_seq,)
            ).fetchall()
        return [dict(zip(("seq", "ts", "user", "action", "detail"), r, strict=True)) for r in rows]
