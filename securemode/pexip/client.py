"""The Pexip Infinity Management API client: Tastypie conventions, bounded retries, clear errors.

* Retries only transient failures — connection errors, 429 (honouring ``Retry-After``), 502/503/504 —
  with exponential backoff and a bound; anything else fails at once. A POST is retried only when the
  request cannot have been processed (connection never made, 429, 503), so a retry never creates twice.
* Lists follow ``meta.next`` until it is null.
* Writes take related objects as URIs; reads may nest them (see :mod:`securemode.pexip.models`).
* Errors carry the API's message and name the field for 400s; secrets never appear in them.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, SecretStr

from securemode.pexip.errors import ApiError, TransientApiError, TrustError, ValidationFailed, api_message
from securemode.pexip.transport import trusted_session
from securemode.pexip.trust import Trust
from securemode.redact import redact, register_secret

log = logging.getLogger("securemode.pexip")

API_PREFIX = "/api/admin/"
CONFIG = "/api/admin/configuration/v1/"
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
_POST_SAFE_STATUS = frozenset({429, 503})  # the server says it did not process the request
_MAX_PAGES = 10_000

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries; waits grow from ``backoff_s`` doubling up to ``backoff_cap_s``."""

    attempts: int = 4
    backoff_s: float = 0.25
    backoff_cap_s: float = 4.0
    max_retry_after_s: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap_s, self.backoff_s * (2 ** (attempt - 1))))


def config_uri(resource: str, key: int | str | None = None) -> str:
    """``/api/admin/configuration/v1/<resource>/[<key>/]``."""
    return f"{CONFIG}{resource}/" + (f"{key}/" if key is not None else "")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ManagementApi:
    """One authenticated session with a Management Node, under one trust decision."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: SecretStr,
        trust: Trust,
        *,
        retry: RetryPolicy | None = None,
        timeout_s: float = 15.0,
        client_certificate: tuple[str, str] | None = None,
    ) -> None:
        """``client_certificate`` (certificate chain file, key file): log in with it instead of the password
        (the node takes the identity from it once client certificates are required)."""
        if urlsplit(base_url).scheme != "https":
            raise ValueError("the Management API is reached over HTTPS only")
        register_secret(password.get_secret_value())
        self.base_url = base_url.rstrip("/")
        self.trust = trust
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._session = trusted_session(trust)
        if client_certificate is None:
            self._session.auth = (username, password.get_secret_value())
        else:
            self._session.cert = client_certificate
        self.client_certificate = client_certificate
        self._session.headers.update({"Accept": "application/json"})

    def __repr__(self) -> str:
        how = "client certificate" if self.client_certificate else "password"
        return f"ManagementApi({self.base_url!r}, trust={self.trust.describe()!r}, login={how})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ManagementApi:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # the wire ---------------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ) -> requests.Response:
        """Send one request with the retry policy; return a 2xx response or raise."""
        url = path if path.startswith("https://") else self.base_url + path
        shown = urlsplit(url).path
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            wait: float | None
            try:
                response = self._session.request(
                    method, url, json=body, params=params, timeout=self.timeout_s, allow_redirects=False
                )
            except requests.exceptions.SSLError as exc:
                raise TrustError(f"{method} {shown}: TLS verification failed ({self.trust.describe()}): "
                                 f"{redact(str(exc))[:300]}") from None
            except requests.exceptions.ConnectionError as exc:
                last = f"connection error: {_cause(exc)}"
                if method == "POST" and not _never_sent(exc):
                    raise TransientApiError(f"{method} {shown}: {last} (not retried: it may have been processed)") \
                        from None
                wait = self.retry.backoff(attempt)
            except requests.exceptions.Timeout as exc:
                last = f"timeout: {_cause(exc)}"
                if method == "POST" and not isinstance(exc, requests.exceptions.ConnectTimeout):
                    raise TransientApiError(f"{method} {shown}: {last} (not retried: it may have been processed)") \
                        from None
                wait = self.retry.backoff(attempt)
            else:
                log.debug("%s %s → %s", method, shown, response.status_code)
                if response.status_code < 300:
                    return response
                if response.status_code not in TRANSIENT_STATUS or (
                    method == "POST" and response.status_code not in _POST_SAFE_STATUS
                ):
                    raise _api_error(method, shown, response)
                last = f"HTTP {response.status_code}"
                wait = self._wait_for(response, attempt)
                if wait is None:
                    raise TransientApiError(
                        f"{method} {shown}: HTTP {response.status_code} asks to wait "
                        f"{response.headers.get('Retry-After')}s, more than the "
                        f"{self.retry.max_retry_after_s:g}s this client waits"
                    )
            if attempt < self.retry.attempts:
                log.info("%s %s: %s; retry %d/%d in %.2fs", method, shown, last, attempt,
                         self.retry.attempts - 1, wait)
                self.retry.sleep(wait)
        raise TransientApiError(f"{method} {shown}: still failing after {self.retry.attempts} attempts ({last})")

    def _wait_for(self, response: requests.Response, attempt: int) -> float | None:
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            return self.retry.backoff(attempt)
        return asked if asked <= self.retry.max_retry_after_s else None

    # reading ----------------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        data = self.request("GET", path, params=params).json()
        if not isinstance(data, dict):
            raise ApiError(200, "GET", path, "expected a JSON object")
        return data

    def iter_objects(self, resource_or_path: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint, following ``meta.next`` page by page."""
        path = resource_or_path if resource_or_path.startswith("/") else config_uri(resource_or_path)
        params: dict[str, Any] | None = dict(filters)
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = self.get(path, params)
            objects = page.get("objects")
            if not isinstance(objects, list):
                raise ApiError(200, "GET", path, "list response without 'objects'")
            yield from (o for o in objects if isinstance(o, dict))
            nxt = (page.get("meta") or {}).get("next")
            if not nxt or nxt in seen:
                return
            seen.add(nxt)
            path, params = nxt, None
        raise ApiError(200, "GET", path, f"more than {_MAX_PAGES} pages")

    def list_objects(self, model: type[M], resource: str, **filters: Any) -> list[M]:
        return [model.model_validate(o) for o in self.iter_objects(resource, **filters)]

    def read(self, model: type[M], path: str) -> M:
        return model.model_validate(self.get(path))

    # writing ----------------------------------------------------------------------------------------
    def create(self, resource: str, body: Mapping[str, Any]) -> str:
        """POST a new object; return its URI path (from ``Location``, or the body's ``resource_uri``)."""
        response = self.request("POST", config_uri(resource), body=body)
        location = response.headers.get("Location")
        if location:
            return urlsplit(location).path
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("resource_uri"), str):
            return str(data["resource_uri"])
        raise ApiError(response.status_code, "POST", config_uri(resource), "created, but no Location was returned")

    def create_for_file(self, resource: str, body: Mapping[str, Any]) -> tuple[str, bytes]:
        """POST a new object whose answer is a file (a ``worker_vm``'s deployment file, returned only on
        create); return its URI path and the file's bytes."""
        response = self.request("POST", config_uri(resource), body=body)
        location = response.headers.get("Location")
        if not location:
            raise ApiError(response.status_code, "POST", config_uri(resource), "created, but no Location was returned")
        return urlsplit(location).path, response.content

    def patch(self, path: str, body: Mapping[str, Any]) -> None:
        self.request("PATCH", path, body=body)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)


def _api_error(method: str, path: str, response: requests.Response) -> ApiError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message, fields = api_message(response.status_code, body, response.text if body is None else "")
    cls = ValidationFailed if response.status_code == 400 and fields else ApiError
    return cls(response.status_code, method, path, message, fields)


def _cause(exc: BaseException) -> str:
    inner: BaseException = exc
    while inner.__context__ is not None and len(str(inner)) > 200:
        inner = inner.__context__
    text = str(inner.args[0] if inner.args else inner)
    return redact(text)[:200]


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP/TLS connection was never made, so the server cannot have seen the request."""
    text = repr(exc.args[0]) if exc.args else ""
    return "NewConnectionError" in text or "ConnectTimeoutError" in text
