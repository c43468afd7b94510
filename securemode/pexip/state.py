"""The per-site folder under the state dir where the Pexip stages keep what they must remember.

Layout (``<state>/pexip/<site name>/``, mode 0700)::

    pins.json         SHA-256 fingerprints of nodes' self-signed certificates, pinned before the PKI stage
    write-only.json   salted digests of write-only secrets the engine set (NTP keys, SNMP passwords)
    trusted-cas.pem   the site's trusted CA files as one bundle (public certificates)
    keys/<node>.key   private keys made locally when the CSR cannot be made on the node (0600)
    csr/<node>.csr    CSRs waiting for the manual CA adapter
    signed/<node>.pem signed certificates handed back for the manual CA adapter
    node-ova/<node>.ova a Conferencing Node's generated OVA, kept (0600) from its registration until its VM is
                      imported (the Management Node hands it out only once)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from securemode.paths import state_dir
from securemode.site_loader import LoadedSite

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """A file-system-safe version of a site or node name."""
    return _SAFE.sub("_", name) or "_"


def site_dir(loaded: LoadedSite) -> Path:
    """``<state>/pexip/<site>/``, created 0700 on first use."""
    path = state_dir() / "pexip" / safe_name(loaded.site.name)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def subdir(loaded: LoadedSite, name: str) -> Path:
    path = site_dir(loaded) / name
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (0600), atomically replacing any old file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, or {} when the file does not exist."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_private(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
