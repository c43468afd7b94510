"""HTTP calls to a test's Prefect server, repeated while it answers 503.

Prefect's server answers 503 when its SQLite database is busy (``is_client_retryable_exception``) and its
own client retries; a test that calls the REST API by hand must do the same, or it fails on the server's
load rather than on what it tests.
"""

from __future__ import annotations

import time

import httpx

BUSY_FOR_S = 60.0  # how long a busy server is waited for before its 503 is returned to the test
_PAUSE_S = 0.5


class _RetryWhileBusy(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + BUSY_FOR_S
        while True:
            response = super().handle_request(request)
            if response.status_code != 503 or time.monotonic() > deadline:
                return response
            response.close()
            time.sleep(_PAUSE_S)


api_http = httpx.Client(transport=_RetryWhileBusy(), timeout=30.0)
