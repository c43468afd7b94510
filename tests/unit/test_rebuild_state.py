"""The rebuild's own state: its record (steps, closing), and the old deployment's engine state set aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from securemode.pexip import rebuild_record
from securemode.pexip.state import site_dir
from securemode.site_loader import LoadedSite, load_site
from securemode.tasks.rebuild.engine_state import archive_folder, set_aside
from securemode.tasks.rebuild.quarantine import quarantine_name
from tests.unit.sites import example_document, set_secrets, write_site


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedSite:
    set_secrets(monkeypatch)
    doc = example_document()
    doc["name"] = f"rebuild-state-{tmp_path.name}"  # a state folder of its own
    return load_site(write_site(tmp_path, doc))


def test_a_rebuild_record_keeps_its_steps_until_it_is_closed(loaded: LoadedSite) -> None:
    assert rebuild_record.current(loaded) is None
    record = rebuild_record.start(loaded, "compromise", "someone", ["mgr01"])
    record.finish("inventory", before={})
    again = rebuild_record.current(loaded)
    assert again is not None and again.id == record.id and again.done("inventory") and not again.done("quarantine")
    kept = again.close()
    assert rebuild_record.current(loaded) is None and kept.is_file()
    assert [r["id"] for r in rebuild_record.finished(loaded)] == [record.id]


def test_the_whole_deployments_engine_state_is_moved_aside_never_deleted(loaded: LoadedSite) -> None:
    root = site_dir(loaded)
    (root / "pins.json").write_text("{}")
    (root / "client-certificates").mkdir()
    (root / "client-certificates" / "lab-admin.pem").write_text("cert")
    (root / "trusted-cas.pem").write_text("public")
    mn = loaded.site.management_node.name
    assert sorted(set_aside(loaded, "20260101T000000Z", [mn])) == ["client-certificates", "pins.json"]
    archive = archive_folder(loaded, "20260101T000000Z")
    assert (archive / "client-certificates" / "lab-admin.pem").read_text() == "cert"
    assert not (root / "pins.json").exists() and (root / "trusted-cas.pem").exists()
    assert set_aside(loaded, "20260101T000000Z", [mn]) == []  # a rerun finds nothing left to move


def test_a_conferencing_node_only_rebuild_moves_only_its_own_entries(loaded: LoadedSite) -> None:
    root = site_dir(loaded)
    node = loaded.site.conferencing_nodes[0].name
    for name in ("pins.json", "write-only.json", f"keys/{node}.key", "keys/other.key"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("x")
    assert sorted(set_aside(loaded, "id", [node])) == sorted(["write-only.json", f"keys/{node}.key"])
    assert (root / "pins.json").exists() and (root / "keys" / "other.key").exists()


def test_a_quarantined_vm_is_named_after_its_node_and_the_rebuild() -> None:
    assert quarantine_name("mgr01", "20260101T000000Z") == "mgr01-quarantine-20260101T000000Z"
