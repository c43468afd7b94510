"""MITRE's own tools, driven as an assessor would: the SAF CLI and Heimdall Lite (in headless Chromium).

Both come from npm into .build/npm through infra/assessor/install.sh (stamped: a second call is a no-op).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import REPO

NPM = REPO / ".build" / "npm"
SAF = NPM / "node_modules" / ".bin" / "saf"
HEIMDALL_DIST = NPM / "node_modules" / "@mitre" / "heimdall-lite" / "dist"
# saf view summary's categories, keyed by the control status Heimdall shows.
SUMMARY_KEYS = {"Passed": "passed", "Failed": "failed", "Profile Error": "error", "Not Applicable": "no_impact",
                "Not Reviewed": "skipped"}


def ensure_installed() -> None:
    subprocess.run([str(REPO / "infra" / "assessor" / "install.sh")], check=True, timeout=900)


def saf(*args: str) -> str:
    # The SAF CLI writes saf-cli.log into its working folder: keep it out of the checkout.
    with tempfile.TemporaryDirectory(prefix="saf-") as cwd:
        done = subprocess.run([str(SAF), *args], capture_output=True, text=True, timeout=180, cwd=cwd)
    assert done.returncode == 0, f"saf {' '.join(args)} failed: {done.stderr[-2000:]}"
    return done.stdout


def saf_summary(hdf: Path) -> dict[str, int]:
    """Totals per category from `saf view summary` (passed, failed, error, skipped, no_impact)."""
    data = json.loads(saf("view", "summary", "-i", str(hdf), "--format", "json", "--stdout"))
    entry: dict[str, Any] = data[0] if isinstance(data, list) else data
    return {key: int(entry[key]["total"]) for key in ("passed", "failed", "error", "skipped", "no_impact")}


@contextmanager
def heimdall_server(hdf: Path) -> Iterator[str]:
    """Serve Heimdall Lite's static build on loopback with our HDF as its pre-defined file (as `saf view
    heimdall` does: `?predefinedLoad=true` fetches /dynamic/predefinedload.json)."""
    payload = json.dumps([{"filename": hdf.name, "data": hdf.read_text(encoding="utf-8")}]).encode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/dynamic/predefinedload.json"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(HEIMDALL_DIST)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/?predefinedLoad=true"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def chromium(url: str, profile: Path, *extra: str) -> str:
    """Headless Chromium on a loopback URL; returns stdout (the DOM with --dump-dom)."""
    assert shutil.which("chromium"), "Debian's chromium is needed (bin/setup installs it)"
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", "--window-size=1400,1000",
         f"--user-data-dir={profile}", "--virtual-time-budget=20000", *extra, url],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def visible_text(dom: str) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def heimdall_counts(hdf: Path, workdir: Path, screenshot: Path | None = None) -> dict[str, int]:
    """The status cards Heimdall Lite shows for our file: Passed, Failed, Not Applicable, Not Reviewed, and the
    Profile Errors alert (absent when zero)."""
    with heimdall_server(hdf) as url:
        text = visible_text(chromium(url, workdir / "heimdall-profile", "--dump-dom"))
        if screenshot is not None:
            chromium(url, workdir / "heimdall-shot-profile", f"--screenshot={screenshot}")
    assert f"Filename: {hdf.name}" in text, f"Heimdall did not load our file: {text[:600]}"
    counts = {status: int(re.search(rf"{status}: (\d+)", text).group(1))  # type: ignore[union-attr]
              for status in ("Passed", "Failed", "Not Applicable", "Not Reviewed")}
    errors = re.search(r"ALERT: (\d+) Profile Errors?", text)
    counts["Profile Error"] = int(errors.group(1)) if errors else 0
    return counts
