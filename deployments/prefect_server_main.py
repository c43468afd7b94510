"""`prefect server start`, with SQLite transactions that wait for the database instead of failing.

Prefect opens its SQLite transactions DEFERRED: one that reads and then writes while another write commits
fails at once with SQLITE_BUSY_SNAPSHOT (its busy timeout does not apply to that case), the server answers
503 and Prefect's client backs off two seconds and more. Measured on the lab: one or two such stalls in
most pipeline runs, more than the engine's whole own cost. Taking the write lock when the transaction
begins (BEGIN IMMEDIATE, what Prefect already does for its SELECT … FOR UPDATE) makes the next writer
wait its turn under the 30 s busy timeout instead. PostgreSQL servers are left as Prefect runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def wait_for_sqlite_writers() -> None:
    """Open every transaction of Prefect's SQLite configuration as BEGIN IMMEDIATE."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    deferred: Callable[..., Any] = AioSqliteConfiguration.begin_transaction

    def begin_immediate(self: AioSqliteConfiguration, session: Any, with_for_update: bool = False) -> Any:
        return deferred(self, session, with_for_update=True)

    AioSqliteConfiguration.begin_transaction = begin_immediate  # type: ignore[method-assign]


def main() -> None:
    wait_for_sqlite_writers()
    from prefect.cli import app

    app()


if __name__ == "__main__":
    main()
