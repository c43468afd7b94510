"""Start a pipeline run the way the Prefect UI or a schedule does — from its deployment — in this process.

The runner would start it in a subprocess; running it in a thread here keeps the test's device stage
substituted while Prefect sees a deployment run (so gates pause and reports go under the state folder).
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow

from securemode.flows.pipeline import secure_mode_deployment


@dataclass
class DeploymentRun:
    parent: UUID
    worker: threading.Thread


def start_deployment_run(site: Path, **parameters: Any) -> DeploymentRun:
    name = yaml.safe_load(site.read_text())["name"]
    deployment_id = secure_mode_deployment.to_deployment(  # type: ignore[union-attr]
        name=name, parameters={"site_path": str(site), "mode": "run", "stage_names": ["host", "vms"],
                               **parameters}).apply()
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(deployment_id)
    worker = threading.Thread(target=contextvars.copy_context().run, daemon=True, kwargs={
        "flow": secure_mode_deployment, "flow_run": flow_run, "parameters": flow_run.parameters,
        "return_type": "state"}, args=(run_flow,))
    worker.start()
    return DeploymentRun(flow_run.id, worker)
