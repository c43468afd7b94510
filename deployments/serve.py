"""Register the deployments with the local Prefect server and serve them from this process."""

from __future__ import annotations

from prefect import serve

from deployments.definitions import site_deployments
from securemode.site_loader import LoadedSite


def serve_site(loaded: LoadedSite) -> None:
    """Serve both deployments for one site (defined in deployments.definitions); blocks until interrupted."""
    serve(*site_deployments(loaded))
