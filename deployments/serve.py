"""Register the deployments with the local Prefect server and serve them from this process."""

from __future__ import annotations

import os
from collections.abc import Callable

from prefect import serve

from securemode.deployments import report_server
from securemode.deployments.automations import register_operations
from securemode.deployments.definitions import site_deployments
from securemode.deployments.notifications import register_notifications
from securemode.deployments.run_watch import watch_runs
from securemode.site_loader import LoadedSite


def serve_site(loaded: LoadedSite, announce: Callable[[str], None] = print) -> None:
    """Serve both deployments of one site (defined in securemode.deployments.definitions) and the report folders over
    HTTP; blocks until interrupted."""
    reports, base_url = report_server.start()
    os.environ[report_server.URL_ENV] = base_url  # the flow runs serve() spawns inherit it
    announce(f"reports: {base_url}/reports/ (read-only)")
    for name in register_notifications(loaded):
        announce(f"notification: {name} (webhook)")
    deployments = site_deployments(loaded)
    for deployment in deployments:  # registered before serving, so the automations can name them
        deployment.apply()
    for name in register_operations(loaded):
        announce(f"automation: {name}")
    watcher = watch_runs(loaded.site.name, announce)
    try:
        serve(*deployments)
    finally:
        watcher.stop()
        reports.shutdown()
