"""Errors of the Management API client: one clear sentence each, with the API's own words, no secrets.

Tastypie answers in two shapes (reference §1.6): validation errors keyed by field,
``{"<resource>": {"<field>": ["msg", …]}}`` or ``{"<field>": ["msg"]}``, and ``{"error": "msg"}`` for
the rest. :func:`api_message` turns either into one line that names the field. Every message passes
through :func:`securemode.redact.redact`, so a secret the server echoes back never leaves the process.
"""

from __future__ import annotations

from typing import Any

from securemode.redact import redact

_MAX_MESSAGE = 400


class PexipError(Exception):
    """Base of every error the client raises."""


class TrustError(PexipError):
    """The node's certificate is neither the pinned one nor one that chains to the site's trusted CAs."""


class ApiError(PexipError):
    """The API answered with an error status; ``message`` is the API's explanation, redacted."""

    def __init__(self, status: int, method: str, path: str, message: str, fields: dict[str, list[str]] | None = None):
        self.status = status
        self.method = method
        self.path = path
        self.message = redact(message)
        self.fields = {k: [redact(m) for m in v] for k, v in (fields or {}).items()}
        super().__init__(f"{method} {path} → HTTP {status}: {self.message}")


class ValidationFailed(ApiError):
    """HTTP 400 with field errors: the message names each field and what the API said about it."""


class TransientApiError(PexipError):
    """A transient failure (connection error, 429, 502–504) that outlasted the retry budget.

    Stages list it in ``EnsureStep.transient_errors`` so the flow may retry the whole step later.
    """


def field_errors(body: Any) -> dict[str, list[str]]:
    """Field → messages from a Tastypie validation body (either shape); {} when it is not one."""
    if not isinstance(body, dict) or not body:
        return {}
    if len(body) == 1:
        (only,) = body.values()
        if isinstance(only, dict) and all(isinstance(v, list | str) for v in only.values()):
            body = only
    out: dict[str, list[str]] = {}
    for name, messages in body.items():
        if isinstance(messages, str):
            out[str(name)] = [messages]
        elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
            out[str(name)] = list(messages)
        else:
            return {}
    return out


def api_message(status: int, body: Any, text: str) -> tuple[str, dict[str, list[str]]]:
    """One line explaining an error response, and the field errors when there are any."""
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "details"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _short(value), {}
        fields = field_errors(body)
        if fields:
            parts = [f"field '{name}': {' '.join(msgs)}" for name, msgs in fields.items()]
            return _short("; ".join(parts)), fields
    if text.strip():
        return _short(" ".join(text.split())), {}
    return f"HTTP {status} without an explanation", {}


def _short(text: str) -> str:
    text = redact(text)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
