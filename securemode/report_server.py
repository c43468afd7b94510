"""Serve the report folders read-only over HTTP on 127.0.0.1, so the Prefect UI's report links open.

A browser will not open ``file://`` links from an http page; `securemode serve` starts this server
and publishes its address in ``SECUREMODE_REPORTS_URL`` for the flow runs it spawns. Only GET and
HEAD, only files under the state folder's ``reports/`` and ``reverify/`` folders.
"""

from __future__ import annotations

import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from securemode.paths import state_dir

HOST = "127.0.0.1"
URL_ENV = "SECUREMODE_REPORTS_URL"
SERVED = ("reports", "reverify")


def reports_root() -> Path:
    """Where runs started from the UI or a schedule write their reports, one folder per run."""
    path = state_dir() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_url(directory: Path, name: str) -> str | None:
    """The HTTP address of ``directory/name`` when the report server publishes that folder, else None."""
    base = os.environ.get(URL_ENV)
    if not base:
        return None
    try:
        relative = directory.resolve().relative_to(state_dir())
    except ValueError:
        return None
    if not relative.parts or relative.parts[0] not in SERVED:
        return None
    return f"{base.rstrip('/')}/{relative.as_posix()}/{name}"


class ReadOnlyReports(SimpleHTTPRequestHandler):
    """GET/HEAD of files under the served folders; everything else is refused."""

    def send_head(self):  # type: ignore[no-untyped-def]
        parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
        if not parts or parts[0] not in SERVED or ".." in parts:
            self.send_error(404, "not a report")
            return None
        return super().send_head()

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(404, "no listings")
        return None

    def log_message(self, format: str, *args: object) -> None:
        return


def start(port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start serving in a daemon thread; return the server (call ``shutdown()``) and its base URL."""
    handler = partial(ReadOnlyReports, directory=str(state_dir()))
    server = ThreadingHTTPServer((HOST, port), handler)
    threading.Thread(target=server.serve_forever, name="report-server", daemon=True).start()
    return server, f"http://{HOST}:{server.server_address[1]}"
