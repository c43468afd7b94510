"""The events securemode raises in Prefect, and the resource they are about (one site)."""

from __future__ import annotations

DRIFT_EVENT = "securemode.drift.detected"
APPROVAL_EVENT = "securemode.approval.requested"


def site_resource(site_name: str) -> dict[str, str]:
    return {"prefect.resource.id": f"securemode.site.{site_name}", "prefect.resource.name": site_name}


def run_ui_url() -> str:
    """This flow run's page in the v1 UI (what the managed server serves; prefect.runtime's ui_url is v2's)."""
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_UI_URL

    return f"{str(PREFECT_UI_URL.value() or '').rstrip('/')}/runs/flow-run/{flow_run.id}"
