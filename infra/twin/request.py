"""The parsed request every layer sees, including the verified client certificate (if any)."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    peer_cert_der: bytes | None = None
    client: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    connection: dict[str, Any] | None = None  # state of the keep-alive connection this request came on

    @classmethod
    def build(
        cls, method: str, target: str, headers: dict[str, str], body: bytes, peer_cert_der: bytes | None, client: str
    ) -> Request:
        path, _, qs = target.partition("?")
        cookies: dict[str, str] = {}
        try:
            jar: SimpleCookie = SimpleCookie(headers.get("cookie", ""))
            cookies = {k: m.value for k, m in jar.items()}
        except CookieError:
            cookies = {}
        return cls(
            method, path or "/", parse_qs(qs, keep_blank_values=True), headers, body, peer_cert_der, client, cookies
        )

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    @property
    def host(self) -> str:
        """Host header without the port (IPv6 brackets kept off)."""
        host = self.headers.get("host", "")
        if host.startswith("["):
            return host[1:].partition("]")[0]
        return host.rpartition(":")[0] if host.count(":") == 1 else host
