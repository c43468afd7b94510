"""Register the deployments with the local Prefect server and serve them from this process."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from deployments.notifications import register_notifications
from deployments.run_watch import watch_runs
from flows.pipeline import secure_mode_deployment
from flows.reverify import reverify
from securemode import report_server
from securemode.site_loader import LoadedSite


def serve_site(loaded: LoadedSite, announce: Callable[[str], None] = print) -> None:
    """Serve both deployments for one site (and the report folders over HTTP); blocks until interrupted."""
    reports, base_url = report_server.start()
    os.environ[report_server.URL_ENV] = base_url  # the flow runs serve() spawns inherit it
    announce(f"reports: {base_url}/reports/ (read-only)")
    site_path = str(loaded.path)
    pipeline = cast(RunnerDeployment, secure_mode_deployment.to_deployment(
        name=loaded.site.name, parameters={"site_path": site_path, "mode": "run"},
        description="Run the secure-mode pipeline; gated steps pause for approval in the UI."))
    scheduled = cast(RunnerDeployment, reverify.to_deployment(
        name=loaded.site.name, cron=loaded.site.reverify_cron, parameters={"site_path": site_path},
        description="Re-prove every control; emits securemode.drift.detected on drift."))
    for name in register_notifications(loaded):
        announce(f"notification: {name} (webhook)")
    watcher = watch_runs(loaded.site.name, announce)
    try:
        serve(pipeline, scheduled)
    finally:
        watcher.stop()
        reports.shutdown()
