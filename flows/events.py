"""The events securemode raises in Prefect, and the resource they are about (one site)."""

from __future__ import annotations

from uuid import UUID

DRIFT_EVENT = "securemode.drift.detected"
APPROVAL_EVENT = "securemode.approval.requested"
INCIDENT_EVENT = "securemode.incident.declared"  # the primary is down or unusable: fail over
COMPROMISE_EVENT = "securemode.compromise.declared"  # the primary (or named nodes) compromised: rebuild
# A label of the drift event's resource: what the site's drift_response asks for this drift (repair|notify).
DRIFT_RESPONSE_LABEL = "securemode.drift.response"


def site_resource(site_name: str) -> dict[str, str]:
    return {"prefect.resource.id": f"securemode.site.{site_name}", "prefect.resource.name": site_name}


def declare(event: str, site_name: str, reason: str, declared_by: str, nodes: list[str] | None = None) -> UUID:
    """Emit an incident or compromise declaration about ``site_name`` and wait until it is sent; its id.

    The payload carries why and who (and, for a compromise, the nodes: empty means the whole primary)."""
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    payload: dict[str, object] = {"reason": reason, "declared_by": declared_by}
    if event == COMPROMISE_EVENT:
        payload["nodes"] = list(nodes or [])
    emitted = emit_event(event=event, resource=site_resource(site_name), payload=payload)
    if emitted is None:
        raise RuntimeError("Prefect events are disabled in this process: the declaration was not sent")
    EventsWorker.drain_all()
    return emitted.id


def run_ui_url() -> str:
    """This flow run's page in the v1 UI (what the managed server serves; prefect.runtime's ui_url is v2's)."""
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_UI_URL

    return f"{str(PREFECT_UI_URL.value() or '').rstrip('/')}/runs/flow-run/{flow_run.id}"
