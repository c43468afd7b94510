"""Webhook notifications through Prefect automations: a failed run, drift, a run paused for approval.

`securemode serve` registers them (replacing earlier ones of the same name) when the site names a
webhook. The URL is a secret reference: it is resolved here and stored only in a Prefect Webhook
block, whose value the server keeps encrypted; the automations refer to the block by id.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.webhook import Webhook
from prefect.events.actions import CallWebhook
from prefect.events.schemas.automations import EventTrigger, Posture

from securemode.flows.artifacts import artifact_key
from securemode.flows.events import APPROVAL_EVENT, DRIFT_EVENT
from securemode.site_loader import LoadedSite

TEXT_PAYLOAD = '{"site": %s, "kind": "%s", "text": {{ %s | tojson }}}'


def _automation(name: str, trigger: EventTrigger, webhook_id: UUID, kind: str, site: str, text: str) -> Automation:
    payload = TEXT_PAYLOAD % ('"' + site + '"', kind, text)
    return Automation(name=name, description=f"securemode: webhook on {kind} for site {site}", trigger=trigger,
                      actions=[CallWebhook(block_document_id=webhook_id, payload=payload)])


def automations_for(site: str, webhook_id: UUID, ui_url: str) -> list[Automation]:
    """The three automations of one site (pure: nothing is registered here)."""
    ours = {"prefect.resource.id": f"securemode.site.{site}"}
    return [
        _automation(f"securemode {site}: failed run", EventTrigger(
            expect={"prefect.flow-run.Failed"}, posture=Posture.Reactive, threshold=1,
            match_related={"prefect.resource.role": "deployment", "prefect.resource.name": site}),
            webhook_id, "failed", site,
            "(event.resource['prefect.resource.name'] ~ ' failed: ' ~ "
            "(event.payload.validated_state.message or '') ~ ', see "
            f"{ui_url.rstrip('/')}/runs/flow-run/' ~ event.resource['prefect.resource.id'].split('.')[-1])"),
        _automation(f"securemode {site}: drift", EventTrigger(
            expect={DRIFT_EVENT}, match=ours, posture=Posture.Reactive, threshold=1),
            webhook_id, "drift", site, "event.payload.text"),
        _automation(f"securemode {site}: approval", EventTrigger(
            expect={APPROVAL_EVENT}, match=ours, posture=Posture.Reactive, threshold=1),
            webhook_id, "approval", site, "event.payload.text"),
    ]


def delete_named(name: str) -> None:
    """Remove earlier automations of this name (a restarted `serve` replaces, never duplicates)."""
    for _ in range(20):
        try:
            cast(Automation, Automation.read(name=name)).delete()
        except ValueError:
            return


def register_notifications(loaded: LoadedSite) -> list[str]:
    """Save the webhook block and (re)create the site's automations; return their names."""
    settings = loaded.site.notifications
    if settings is None:
        return []
    site = loaded.site.name
    block = Webhook(url=loaded.secret(settings.webhook_url), method="POST",
                    headers={"Content-Type": "application/json"})
    block_id = cast(UUID, block.save(artifact_key("securemode", site, "webhook"), overwrite=True))
    names = []
    from prefect.settings import PREFECT_UI_URL

    for automation in automations_for(site, block_id, str(PREFECT_UI_URL.value() or "")):
        delete_named(automation.name)
        automation.create()
        names.append(automation.name)
    return names
