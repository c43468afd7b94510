"""Which credential the engine's own Management API client logs in with: the admin password until the
auth stage's cut-over requires client certificates, then the engine administrator's client certificate.

The cut-over records its state here (in the engine's state folder, beside the pins); every later session
— later stages, ``reverify`` — reads it, so none of them tries a password the node no longer accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from securemode.pexip import state
from securemode.site_loader import LoadedSite

FILE = "auth-cutover.json"


def _path(loaded: LoadedSite) -> Path:
    return state.site_dir(loaded) / FILE


def recorded(loaded: LoadedSite) -> dict[str, Any]:
    """What the cut-over has switched: ``client_certificate``, ``source``, and the engine's certificate."""
    return state.read_json(_path(loaded))


def record(loaded: LoadedSite, **facts: Any) -> None:
    state.write_json(_path(loaded), {**recorded(loaded), **facts})


def forget(loaded: LoadedSite, *names: str) -> None:
    data = recorded(loaded)
    for name in names:
        data.pop(name, None)
    state.write_json(_path(loaded), data)


def engine_client_certificate(loaded: LoadedSite) -> tuple[str, str] | None:
    """The engine's (certificate, key) once client certificates are required; None before."""
    data = recorded(loaded)
    cert, key = data.get("engine_certificate"), data.get("engine_key")
    if data.get("client_certificate") in (None, "NO") or not cert or not key:
        return None
    if not Path(str(cert)).is_file() or not Path(str(key)).is_file():
        return None  # the kept certificate is gone: the password is tried (and refused, saying so)
    return str(cert), str(key)


def record_rollback(loaded: LoadedSite, control: str, message: str) -> None:
    """Remember why a switch of ``control`` was undone, for the row's verifier to name."""
    data = recorded(loaded)
    data.setdefault("rolled_back", {})[control] = message
    state.write_json(_path(loaded), data)


def forget_rollback(loaded: LoadedSite, control: str) -> None:
    data = recorded(loaded)
    if control in data.get("rolled_back", {}):
        del data["rolled_back"][control]
        state.write_json(_path(loaded), data)


def last_rollback(loaded: LoadedSite, control: str) -> str | None:
    message = recorded(loaded).get("rolled_back", {}).get(control)
    return str(message) if message else None
