"""A small Management API client for the twin's tests: pinned TLS, never the environment's CA bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

CONFIG = "/api/admin/configuration/v1/"
STATUS = "/api/admin/status/v1/"
COMMAND = "/api/admin/command/v1/platform/"


class Api:
    def __init__(
        self,
        base_url: str,
        verify: Path | str,
        auth: tuple[str, str] | None = None,
        cert: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override the pinned certificate
        self.session.verify = str(verify)
        self.session.auth = auth
        if cert:
            self.session.cert = cert

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else CONFIG + path)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def create(self, resource: str, body: dict[str, Any]) -> str:
        """POST and return the new object's URI, asserting Tastypie's 201 + Location."""
        resp = self.post(f"{resource}/", body)
        assert resp.status_code == 201, resp.text
        return str(resp.headers["Location"])

    def objects(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        resp = self.get(f"{resource}/", params={"limit": 0, **params})
        assert resp.status_code == 200, resp.text
        return list(resp.json()["objects"])

    def close(self) -> None:
        self.session.close()
