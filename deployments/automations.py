"""The automations that start the event-driven operations of a site, registered with its deployments.

- ``securemode <site>: incident → failover``: ``securemode.incident.declared`` about the site runs
  ``failover/<site>`` with the event's reason, who declared it and when;
- ``securemode <site>: compromise → rebuild``: ``securemode.compromise.declared`` runs ``rebuild/<site>`` with
  the reason, who, when and the nodes named (only when that deployment exists);
- ``securemode <site>: drift → repair``: ``securemode.drift.detected`` whose response (the site's
  ``drift_response`` for the drifted controls' severities, a label of the event) is ``repair`` runs the
  pipeline deployment in run mode. A ``notify`` response only sends the webhook (deployments/notifications.py).

:func:`operation_automations` only builds them; :func:`register_operations` (``securemode serve``,
``securemode deploy``) replaces those of the same name on the server, and removes one the site no longer
asks for. They are listed (and editable) on the UI's Automations page.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from prefect.automations import Automation
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import EventTrigger, Posture

from securemode.deployments.notifications import delete_named
from securemode.flows.events import COMPROMISE_EVENT, DRIFT_EVENT, DRIFT_RESPONSE_LABEL, INCIDENT_EVENT
from securemode.site_loader import LoadedSite

FAILOVER = "failover"
REBUILD = "rebuild"
PIPELINE = "secure-mode-deployment"
# A bare "{{ expr }}" is rendered and decoded as JSON (keeping a list a list); the event's time is no JSON
# value, so it is rendered as plain text (Prefect's "jinja" kind).
DECLARED = {
    "reason": "{{ event.payload.reason }}",
    "declared_by": "{{ event.payload.declared_by }}",
    "declared_at": {"__prefect_kind": "jinja", "template": "{{ event.occurred }}"},
}


@dataclass(frozen=True)
class SiteDeploymentIds:
    """The ids of a site's deployments the automations start (None: not registered, no automation)."""

    pipeline: UUID | None = None
    failover: UUID | None = None
    rebuild: UUID | None = None


def automation_names(site: str) -> dict[str, str]:
    return {
        kind: f"securemode {site}: {kind}" for kind in ("incident → failover", "compromise → rebuild", "drift → repair")
    }


def _on(event: str, site: str, **labels: str) -> EventTrigger:
    return EventTrigger(
        expect={event},
        match={"prefect.resource.id": f"securemode.site.{site}", **labels},
        posture=Posture.Reactive,
        threshold=1,
    )


def _run(name: str, trigger: EventTrigger, deployment: UUID, parameters: dict[str, object], what: str) -> Automation:
    return Automation(
        name=name,
        description=f"securemode: {what}",
        trigger=trigger,
        actions=[RunDeployment(source="selected", deployment_id=deployment, parameters=parameters)],
    )


def operation_automations(site: str, site_path: str, ids: SiteDeploymentIds, repair_on_drift: bool) -> list[Automation]:
    """The site's operation automations (pure: nothing is registered here)."""
    names = automation_names(site)
    built = []
    if ids.failover is not None:
        built.append(
            _run(
                names["incident → failover"],
                _on(INCIDENT_EVENT, site),
                ids.failover,
                {"site_path": site_path, **DECLARED},
                f"an incident declared on {site} fails it over",
            )
        )
    if ids.rebuild is not None:
        built.append(
            _run(
                names["compromise → rebuild"],
                _on(COMPROMISE_EVENT, site),
                ids.rebuild,
                {"site_path": site_path, **DECLARED, "nodes": "{{ event.payload.nodes }}"},
                f"a compromise declared on {site} rebuilds it",
            )
        )
    if ids.pipeline is not None and repair_on_drift:
        built.append(
            _run(
                names["drift → repair"],
                _on(DRIFT_EVENT, site, **{DRIFT_RESPONSE_LABEL: "repair"}),
                ids.pipeline,
                {"site_path": site_path, "mode": "run"},
                f"drift on {site} that its drift_response repairs runs the pipeline",
            )
        )
    return built


def _deployment_id(name: str) -> UUID | None:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(name).id
        except ObjectNotFound:
            return None


def register_operations(loaded: LoadedSite) -> list[str]:
    """(Re)create the site's operation automations for the deployments registered now; their names."""
    site = loaded.site.name
    ids = SiteDeploymentIds(
        pipeline=_deployment_id(f"{PIPELINE}/{site}"),
        failover=_deployment_id(f"{FAILOVER}/{site}") if loaded.site.contingency else None,
        rebuild=_deployment_id(f"{REBUILD}/{site}"),
    )
    response = loaded.site.drift_response
    repair = "repair" in (response.high, response.medium, response.low)
    for name in automation_names(site).values():
        delete_named(name)
    created = []
    for automation in operation_automations(site, str(loaded.path), ids, repair):
        automation.create()
        created.append(automation.name)
    return created
