"""HTTP-level errors raised by the API and web layers; bodies follow Tastypie's two shapes."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with the HTTP status and JSON body the client should see (never a secret in it)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> ApiError:
    """Non-validation error: Tastypie's `{"error": msg}` shape."""
    return ApiError(status, {"error": message}, headers)


class FieldErrors(Exception):
    """Validation errors keyed by field, turned into `{"<resource>": {"<field>": [msg]}}` with 400."""

    def __init__(self, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__("invalid input")
        self.errors: dict[str, list[str]] = errors or {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def to_api(self, resource: str) -> ApiError:
        return ApiError(400, {resource: self.errors})
