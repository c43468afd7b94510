"""Which database the managed Prefect server runs on: SQLite (the default) or the managed PostgreSQL."""

from __future__ import annotations

from enum import StrEnum

from securemode.deployments import postgres, prefect_server


class Database(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class DatabaseMismatch(Exception):
    """A server already runs on another database; the message says how to switch."""


def start(database: Database = Database.SQLITE) -> tuple[prefect_server.ServerInfo, bool]:
    """Start (or reuse) the Prefect server on ``database``; PostgreSQL is started first when asked for."""
    running = prefect_server.current()
    if running is not None and prefect_server.healthy(running) and running.database != database.value:
        raise DatabaseMismatch(f"--database: the local Prefect server already runs on {running.database}. Fix: "
                               f"securemode server stop, then securemode server start --database {database.value}")
    env: dict[str, str] = {}
    if database is Database.POSTGRESQL:
        info, _ = postgres.ensure_running()
        url = info.connection_url().get_secret_value()
        env = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": url, "PREFECT_API_DATABASE_CONNECTION_URL": url}
    return prefect_server.ensure_running(database=database.value, database_env=env)


def stop() -> bool:
    """Stop the server, then the PostgreSQL under it (if we started one); True if anything was running."""
    server = prefect_server.stop()
    database = postgres.stop()
    return server or database
