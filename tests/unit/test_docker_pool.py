"""What a Docker pool's container gets: the site's folders read-only, the state folder, never env: secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from securemode.deployments import docker_pool
from securemode.paths import STATE_ENV
from securemode.site_loader import load_site
from tests.unit.sites import example_document, set_secrets, write_site


def _file_secrets(value: Any, folder: Path) -> Any:
    """The example site with every env: reference turned into a file: reference (relative or absolute)."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value.removeprefix("env:")
        (folder / name).write_text("secret-value\n")
        return f"file:{folder / name}"
    if isinstance(value, dict):
        return {k: _file_secrets(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_file_secrets(v, folder) for v in value]
    return value


def test_env_secrets_are_refused_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    loaded = load_site(write_site(tmp_path, example_document()))
    with pytest.raises(docker_pool.DockerPoolError) as caught:
        docker_pool.mounts(loaded)
    assert "SM_VSPHERE_PASSWORD" in str(caught.value) and "Fix: use file: references" in str(caught.value)


def test_the_site_folder_and_secret_folders_are_read_only_and_the_state_folder_is_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, site_dir, vault = tmp_path / "state", tmp_path / "site", tmp_path / "vault"
    for folder in (state, site_dir, vault / "sub"):
        folder.mkdir(parents=True)
    monkeypatch.setenv(STATE_ENV, str(state))
    doc = _file_secrets(example_document(), vault / "sub")
    loaded = load_site(write_site(site_dir, doc))
    assert docker_pool.mounts(loaded) == [
        f"{site_dir}:{site_dir}:ro",
        f"{vault / 'sub'}:{vault / 'sub'}:ro",
        f"{state}:{state}",
    ]
    variables = docker_pool.job_variables(loaded)
    assert variables["env"] == {STATE_ENV: str(state)}


def test_the_pool_template_never_pulls_and_uses_the_host_network() -> None:
    props = docker_pool.base_job_template("securemode-worker:9.9")["variables"]["properties"]
    assert props["image"]["default"] == "securemode-worker:9.9"
    assert props["image_pull_policy"]["default"] == "Never"
    assert props["network_mode"]["default"] == "host"
