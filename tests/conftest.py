"""Shared test set-up: repository paths, and an isolated state folder set before Prefect is imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "guide" / "pexip-infinity-secure-mode-guide.txt"  # vendored: see its README

# Before any test module imports Prefect: keep every test's state (Prefect home, lab files, attestations)
# out of the developer's ./var and out of ~/.prefect.
if "SECUREMODE_STATE_DIR" not in os.environ:
    os.environ["SECUREMODE_STATE_DIR"] = tempfile.mkdtemp(prefix="securemode-tests-")

import ipaddress  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from securemode.prefect_env import apply_prefect_settings  # noqa: E402 - must follow the state dir

apply_prefect_settings()

# The tests may only talk to this machine: loopback, or the lab's own network namespaces (10.213.0.0/16).
# A probe aimed anywhere else (say an example site's 192.0.2.x) fails the test instead of leaving the box.
_ALLOWED = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"),
            ipaddress.ip_network("10.213.0.0/16"), ipaddress.ip_network("0.0.0.0/32"))


def _local_only(event: str, args: tuple[object, ...]) -> None:
    if event not in ("socket.connect", "socket.sendto"):
        return
    address = args[1] if len(args) > 1 else None
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return  # unix sockets and the like
    try:
        ip = ipaddress.ip_address(address[0].split("%", 1)[0])
    except ValueError:
        return  # a name: resolution itself goes to the lab's own DNS or fails
    if not any(ip in net for net in _ALLOWED):
        raise PermissionError(f"tests may not send to {address[0]} (only loopback and the lab's namespaces)")


if not getattr(socket, "_securemode_local_only", False):
    sys.addaudithook(_local_only)
    socket._securemode_local_only = True  # type: ignore[attr-defined]


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One managed Prefect server for the session (started on first use), stopped by PID at the end."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from securemode import log_redaction
    from securemode.deployments import prefect_server

    info, started = prefect_server.ensure_running()
    log_redaction.install()
    with temporary_settings(updates={PREFECT_API_URL: info.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield info.api_url
    if started:
        prefect_server.stop()


@pytest.fixture(autouse=True)
def _test_local_secrets() -> Iterator[None]:
    """Secrets a test registers (say a site community of 'public' in a validation test) are forgotten after it,
    so they cannot mask another test's text; those of session fixtures (set up before this) stay."""
    from securemode import redact

    before = redact.registered()
    yield
    redact.forget_all_but(before)
