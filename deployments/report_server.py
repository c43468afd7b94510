"""Serve the report folders read-only over HTTP on 127.0.0.1, so the Prefect UI's report links open.

A browser will not open ``file://`` links from an http page; `securemode serve` starts this server
and publishes its address in ``SECUREMODE_REPORTS_URL`` for the flow runs it spawns. Only GET and
HEAD, only files under the state folder's ``reports/`` and ``reverify/`` folders.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from securemode.paths import state_dir
from securemode.report_links import SERVED, URL_ENV

__all__ = ["HOST", "URL_ENV", "ReadOnlyReports", "start"]

HOST = "127.0.0.1"


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
