"""A run started from the UI (a deployment run) writes its reports under the state folder, one folder per
run; the summary artifacts name what does not hold first and link to the reports over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from securemode.deployments import report_server
from securemode.flows.artifacts import artifact_key
from securemode.paths import state_dir
from tests.pipeline.deployment_run import start_deployment_run
from tests.prefect_http import api_http

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture
def reports_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server, base = report_server.start()
    monkeypatch.setenv(report_server.URL_ENV, base)
    yield base
    server.shutdown()
    server.server_close()


def _artifact(api: str, key: str) -> str:
    found = api_http.post(f"{api}/artifacts/latest/filter", json={"artifacts": {"key": {"any_": [key]}}}).json()
    assert found, key
    return str(found[0]["data"])


def test_ui_started_run_writes_reports_linked_over_http(site: Path, prefect_api: str, reports_url: str) -> None:
    doc = yaml.safe_load(site.read_text())
    doc["approvals"] = {"mode": "deny"}  # nothing pauses: the gated step stays unapplied, so a control FAILs
    site.write_text(yaml.safe_dump(doc))
    name = doc["name"]
    started = start_deployment_run(site)
    started.worker.join(timeout=120)
    run = api_http.get(f"{prefect_api}/flow_runs/{started.parent}").json()
    assert run["state"]["type"] == "FAILED"
    folder = state_dir() / "reports" / artifact_key(run["name"])
    written = {p.name for p in folder.iterdir()}  # every format: the people's three and the assessors' two
    assert {"junit.xml", "report.html", "report.json", "report.hdf.json"} <= written
    assert any(n.endswith(".cklb") for n in written), written
    report = json.loads((folder / "report.json").read_text())
    assert {r["control"]: r["status"] for r in report["results"]}["host.stig.ESXI-80-000008"] == "FAIL"

    summary = _artifact(prefect_api, f"{name}-run-report")
    html_url = f"{reports_url}/reports/{folder.name}/report.html"
    assert f"[HTML]({html_url})" in summary
    not_holding = summary.split("## Not holding", 1)[1].strip().splitlines()
    assert not_holding[0] == ('* **FAIL** `host.stig.ESXI-80-000008` [device]: expected `"lockdownNormal"`, '
                              "observed `null` — not locked down")
    assert not_holding[1].startswith("* **MANUAL** `vms.bios.supervisor-password` [device]")
    stage = _artifact(prefect_api, f"{name}-host-summary")
    assert f"({html_url})" in stage and "## Not holding" in stage
    table = json.loads(_artifact(prefect_api, f"{name}-host-results"))
    assert [row["result"] for row in table][:2] == ["FAIL", "MANUAL"]

    page = httpx.get(html_url)
    assert page.status_code == 200 and "host.stig.ESXI-80-000008" in page.text
    assert httpx.post(html_url, content=b"x").status_code == 501  # read-only
    for outside in ("/prefect/prefect.db", "/reports/../prefect/prefect.db", "/reports/"):
        assert httpx.get(f"{reports_url}{outside}").status_code == 404, outside
