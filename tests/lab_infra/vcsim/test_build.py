"""The offline build: patched copies are checked against govmomi 0.24.2, and rebuilds are skipped."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from securemode.infra.vcsim import patch_sources
from securemode.infra.vcsim.paths import BUILD_SCRIPT


def test_overlay_maps_patched_copies_and_extension_files(tmp_path: Path) -> None:
    overlay = patch_sources.write_overlay(patch_sources.GOVMOMI_SIMULATOR, patch_sources.EXT_DIR, tmp_path)
    replace = json.loads(overlay.read_text())["Replace"]
    fetch = Path(replace[str(patch_sources.GOVMOMI_SIMULATOR / "property_collector.go")]).read_text()
    assert "body.Res = &internal.FetchResponse{}" in fetch
    assert any(key.endswith("/zz_ext_services.go") for key in replace)


def test_changed_upstream_source_fails_loudly(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for spec in patch_sources.FILES:
        text = (patch_sources.GOVMOMI_SIMULATOR / spec.name).read_text()
        (src / spec.name).write_text(text.replace("\t", "    ", 1))  # any change breaks the hash
    with pytest.raises(patch_sources.PatchError, match="sha256"):
        patch_sources.write_overlay(src, patch_sources.EXT_DIR, tmp_path / "out")


def test_missing_anchor_fails_even_if_hash_were_updated() -> None:
    spec = patch_sources.FILES[0]
    with pytest.raises(patch_sources.PatchError, match="found 0 times"):
        patch_sources.apply_patches("package simulator\n", spec)


def test_second_build_is_skipped_quickly() -> None:
    subprocess.run([str(BUILD_SCRIPT)], check=True, capture_output=True)
    start = time.monotonic()
    result = subprocess.run([str(BUILD_SCRIPT)], check=True, capture_output=True, text=True)
    assert "up to date" in result.stderr
    assert time.monotonic() - start < 5
