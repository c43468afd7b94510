"""Launcher: free loopback port, PID handle, pinned TLS fingerprint, password kept off argv."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from pyVmomi import vim

from securemode.infra.vcsim import Vcsim, VcsimError, VcsimOptions, start_vcsim
from securemode.infra.vcsim.pytest_fixtures import connect


def test_handle_describes_a_listening_loopback_simulator(vcsim: Vcsim) -> None:
    assert vcsim.host == "127.0.0.1"
    assert vcsim.url == f"https://127.0.0.1:{vcsim.port}/sdk"
    assert vcsim.running()
    with socket.create_connection((vcsim.host, vcsim.port), timeout=2):
        pass


def test_fingerprint_matches_the_served_certificate(vcsim: Vcsim) -> None:
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((vcsim.host, vcsim.port)))
    assert hashlib.sha256(der).hexdigest() == vcsim.tls_sha256
    assert vcsim.tls_fingerprint.replace(":", "").lower() == vcsim.tls_sha256


def test_password_is_not_on_the_command_line(vcsim: Vcsim) -> None:
    cmdline = Path(f"/proc/{vcsim.pid}/cmdline").read_bytes()
    assert vcsim.password.encode() not in cmdline
    assert vcsim.password not in repr(vcsim)


def test_wrong_password_is_refused(vcsim: Vcsim) -> None:
    with pytest.raises(vim.fault.InvalidLogin):
        connect(vcsim, pwd="not-the-password")


def test_esx_mode_speaks_to_pyvmomi_as_a_host(vcsim_si: Any) -> None:
    about = vcsim_si.content.about
    assert about.apiType == "HostAgent"


def test_stop_ends_the_process_and_removes_state(vcsim_binary: Path) -> None:
    sim = start_vcsim(VcsimOptions(vms=0), binary=vcsim_binary)
    state, pid = sim.state_dir, sim.pid
    assert state.is_dir()
    sim.stop()
    assert not sim.running()
    assert not state.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    sim.stop()  # idempotent


def test_bad_options_give_a_clear_error(vcsim_binary: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"options": [{"key": "X.y", "type": "long", "default": "nine"}]}')
    with pytest.raises(VcsimError, match=r"X\.y"):
        start_vcsim(VcsimOptions(options_seed=seed), binary=vcsim_binary)
    with pytest.raises(VcsimError, match="pnics"):
        start_vcsim(VcsimOptions(pnics=0), binary=vcsim_binary)


def test_unusable_binary_leaves_no_state(tmp_path: Path) -> None:
    from securemode.infra.vcsim.paths import state_root

    root = state_root()
    before = set(root.iterdir()) if root.exists() else set()
    with pytest.raises(VcsimError, match="missing"):
        start_vcsim(binary=tmp_path / "absent")
    not_executable = tmp_path / "vcsim-ext"
    not_executable.write_text("")
    with pytest.raises(VcsimError, match="cannot run"):
        start_vcsim(binary=not_executable)
    assert set(root.iterdir()) == before


def test_state_lives_under_the_state_folder(vcsim: Vcsim) -> None:
    """SECUREMODE_STATE_DIR holds everything, vcsim's datastores too — never the repository's var/."""
    state = Path(os.environ["SECUREMODE_STATE_DIR"]).resolve()
    assert Path(vcsim.state_dir).resolve().is_relative_to(state / "vcsim")
