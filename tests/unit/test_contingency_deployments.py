"""A site with a contingency section gets the contingency-refresh deployment on its own schedule (CPU only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from securemode.deployments.definitions import site_deployments
from securemode.site_loader import load_site
from tests.unit.sites import example_document, set_secrets, with_contingency, write_site


def _names_and_schedules(path: Path) -> dict[str, list[str]]:
    found = {}
    for deployment in site_deployments(load_site(path)):
        found[deployment.flow_name] = [str(getattr(s.schedule, "cron", "")) for s in deployment.schedules or []]
    return found


def test_the_refresh_runs_on_the_sites_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    document = with_contingency(example_document())
    document["contingency"]["refresh_cron"] = "15 4 * * 6"
    found = _names_and_schedules(write_site(tmp_path, document))
    assert found["contingency-refresh"] == ["15 4 * * 6"]
    assert set(found) == {"secure-mode-deployment", "reverify", "rebuild", "contingency-refresh", "failover"}


def test_no_refresh_without_a_contingency_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch)
    found = _names_and_schedules(write_site(tmp_path, example_document()))
    assert set(found) == {"secure-mode-deployment", "reverify", "rebuild"}
