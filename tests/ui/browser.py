"""A headless Chromium driven through its DevTools protocol (CDP) over a WebSocket — no Selenium needed.

Only loopback is reachable: every host name except 127.0.0.1/localhost resolves to nothing, so the
UI cannot fetch anything from outside and the test still sees what it renders offline.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"


class BrowserError(Exception):
    """Chromium did not start, or a page did not show what was expected in time."""


class Browser:
    """One headless Chromium with one page; commands are CDP calls answered in order."""

    def __init__(self, width: int = 1600, height: int = 1000) -> None:
        self.width, self.height = width, height
        self._profile = Path(tempfile.mkdtemp(prefix="securemode-chromium-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: ClientConnection | None = None
        self._next_id = 0
        self.external_requests: list[str] = []

    def __enter__(self) -> Browser:
        self._proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
             f"--window-size={self.width},{self.height}", f"--user-data-dir={self._profile}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        port = self._devtools_port(time.monotonic() + 30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            pages = [t for t in json.loads(resp.read()) if t["type"] == "page"]
        if not pages:
            raise BrowserError("chromium opened no page")
        self._ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Network.enable")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _devtools_port(self, deadline: float) -> int:
        marker = self._profile / "DevToolsActivePort"
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise BrowserError(f"chromium exited with code {self._proc.returncode}")
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(marker.read_text().splitlines()[0])
            time.sleep(0.1)
        raise BrowserError("chromium did not open its DevTools port")

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send one CDP command and return its result (events that arrive meanwhile are noted)."""
        assert self._ws is not None
        self._next_id += 1
        wanted = self._next_id
        self._ws.send(json.dumps({"id": wanted, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                if not url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
                    self.external_requests.append(url)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"page script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def text(self) -> str:
        """What the page shows (its rendered text)."""
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def wait_for_text(self, *needles: str, timeout: float = 45.0) -> str:
        """Wait until the rendered page shows every needle; return the page text."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.text()
            if all(n in shown for n in needles):
                return shown
            time.sleep(0.5)
        missing = [n for n in needles if n not in shown]
        raise BrowserError(f"the page never showed {missing}; it showed:\n{shown[:3000]}")

    def click(self, label: str, selector: str = "*", timeout: float = 30.0) -> None:
        """Click the first visible, innermost element matching ``selector`` whose text is ``label``."""
        script = f"""(() => {{
            const wanted = {json.dumps(label)};
            const shows = el => el.offsetParent !== null && (el.innerText || '').trim() === wanted;
            for (const el of document.querySelectorAll({json.dumps(selector)})) {{
                if (shows(el) && ![...el.children].some(shows)) {{ el.click(); return true; }}
            }}
            return false; }})()"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(script):
                return
            time.sleep(0.3)
        raise BrowserError(f"nothing clickable labelled {label!r}; the page shows:\n{self.text()[:2000]}")

    def type_into(self, selector: str, text: str) -> None:
        """Focus the first element matching ``selector`` and type ``text`` as keyboard input."""
        if not self.evaluate(f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
                             " if (!el) return false; el.focus(); return true; })()"):
            raise BrowserError(f"nothing matches {selector!r}")
        self.call("Input.insertText", {"text": text})

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
