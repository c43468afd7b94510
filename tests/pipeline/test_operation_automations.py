"""The operation automations on the local Prefect server: a declared incident starts a run of `failover/<site>`
with the event's reason, a declared compromise one of `rebuild/<site>`, and drift the site's drift_response
repairs one of the pipeline deployment in run mode."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect.events import emit_event
from prefect.events.worker import EventsWorker

from securemode.deployments.automations import automation_names, register_operations
from securemode.deployments.definitions import site_deployments
from securemode.flows.events import (
    COMPROMISE_EVENT,
    DRIFT_EVENT,
    DRIFT_RESPONSE_LABEL,
    INCIDENT_EVENT,
    declare,
    site_resource,
)
from securemode.site_loader import load_site
from tests.prefect_http import api_http
from tests.unit.sites import with_contingency

pytestmark = pytest.mark.usefixtures("prefect_api")


def _runs_of(api: str, deployment: UUID, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = api_http.post(
            f"{api}/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [str(deployment)]}}}
        ).json()
        if found:
            return list(found)
        time.sleep(0.5)
    events = api_http.post(
        f"{api}/events/filter", json={"filter": {"event": {"prefix": ["prefect.automation", "securemode."]}}}
    ).json()
    seen = [(e["event"], e.get("payload")) for e in events.get("events", [])]
    raise AssertionError(f"no flow run of deployment {deployment} within {timeout:.0f} s; events: {seen}")


def _registered(api: str, site: str) -> list[str]:
    return sorted(
        a["name"]
        for a in api_http.post(f"{api}/automations/filter", json={}).json()
        if a["name"].startswith(f"securemode {site}:")
    )


def test_incident_starts_failover_and_compromise_starts_rebuild(site: Path, prefect_api: str) -> None:
    site.write_text(yaml.safe_dump(with_contingency(yaml.safe_load(site.read_text()))))
    loaded = load_site(site)
    name = loaded.site.name
    ids = {f"{d.flow_name}/{d.name}": d.apply() for d in site_deployments(loaded)}
    names = automation_names(name)
    both = sorted([names["incident → failover"], names["compromise → rebuild"]])  # notify on drift: no repair
    assert sorted(register_operations(loaded)) == both
    assert sorted(register_operations(loaded)) == both  # replaced, not duplicated
    assert _registered(prefect_api, name) == both

    event_id = declare(INCIDENT_EVENT, name, "primary datacentre flooded", "dana")
    assert isinstance(event_id, UUID)
    run = _runs_of(prefect_api, ids[f"failover/{name}"])[0]
    assert run["parameters"]["reason"] == "primary datacentre flooded"
    assert run["parameters"]["declared_by"] == "dana"
    assert run["parameters"]["site_path"] == str(site)
    assert str(run["parameters"]["declared_at"]).startswith(time.strftime("%Y-", time.gmtime()))

    declare(COMPROMISE_EVENT, name, "conf01 beacons out", "erin", ["conf01"])
    run = _runs_of(prefect_api, ids[f"rebuild/{name}"])[0]
    assert run["parameters"]["nodes"] == ["conf01"] and run["parameters"]["declared_by"] == "erin"
    for automation in _registered(prefect_api, name):
        assert automation in names.values()


def test_drift_the_site_repairs_runs_the_pipeline_and_notify_does_not(site: Path, prefect_api: str) -> None:
    doc = yaml.safe_load(site.read_text())
    doc["drift_response"] = {"high": "repair"}
    site.write_text(yaml.safe_dump(doc))
    loaded = load_site(site)
    name = loaded.site.name
    ids = {f"{d.flow_name}/{d.name}": d.apply() for d in site_deployments(loaded)}
    names = automation_names(name)
    assert names["drift → repair"] in register_operations(loaded)
    pipeline = ids[f"secure-mode-deployment/{name}"]
    emit_event(
        event=DRIFT_EVENT,
        resource={**site_resource(name), DRIFT_RESPONSE_LABEL: "notify"},
        payload={"text": "low drift only"},
    )
    EventsWorker.drain_all()
    time.sleep(3)
    assert (
        api_http.post(
            f"{prefect_api}/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [str(pipeline)]}}}
        ).json()
        == []
    )
    emit_event(
        event=DRIFT_EVENT,
        resource={**site_resource(name), DRIFT_RESPONSE_LABEL: "repair"},
        payload={"text": "high drift"},
    )
    EventsWorker.drain_all()
    run = _runs_of(prefect_api, pipeline)[0]
    assert run["parameters"]["mode"] == "run"
    doc["drift_response"] = {"high": "notify"}
    site.write_text(yaml.safe_dump(doc))
    register_operations(load_site(site))
    assert names["drift → repair"] not in _registered(prefect_api, name)  # the site no longer asks for it
