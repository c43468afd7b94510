"""A browser-like client for the administrator web surface (CSRF cookie + form login)."""

from __future__ import annotations

import re
from pathlib import Path

import requests


class Browser:
    def __init__(self, base_url: str, verify: Path | str, cert: tuple[str, str] | None = None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(verify)
        if cert:
            self.session.cert = cert

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.session.get(self.base_url + path, allow_redirects=False, timeout=10, **kw)  # type: ignore[arg-type]

    def login(self, username: str, password: str) -> requests.Response:
        page = self.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text
        return self.session.post(
            self.base_url + "/admin/login/",
            timeout=10,
            allow_redirects=False,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": "/admin/"},
        )

    def close(self) -> None:
        self.session.close()
