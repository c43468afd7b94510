"""Licences, keyed by fulfillment_id; activation is local because the lab has no licensing server."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api.spec import ALL, Behaviour, Ctx, ResourceSpec
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.errors import FieldErrors

_RO_COUNTS = (
    "concurrent",
    "concurrent_overdraft",
    "activatable",
    "activatable_overdraft",
    "hybrid",
    "hybrid_overdraft",
)


class LicenceBehaviour(Behaviour):
    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        if old is not None:
            return
        if not ctx.config.licence_activation_succeeds:
            raise FieldErrors({"entitlement_id": ["Licence activation failed: the licensing server is unreachable."]})
        today = dt.date.today()
        new.update(
            {
                "fulfillment_id": f"FID{uuid.uuid4().hex[:12].upper()}",
                "status": "OFFLINE_REQUESTED" if new.get("offline_mode") else "ACTIVATED",
                "license_type": "concurrent",
                "concurrent": 10,
                "start_date": today.isoformat(),
                "expiration_date": (today + dt.timedelta(days=365)).isoformat(),
                "features": "",
            }
        )


def specs(config: TwinConfig) -> list[ResourceSpec]:
    flds: dict[str, f.Field] = {
        "entitlement_id": f.string(255, required=True, blank=False),
        "offline_mode": f.boolean(False, write_only=True),
        "fulfillment_id": f.readonly(),
        "status": f.readonly(),
        "license_type": f.readonly(),
        "start_date": f.readonly(),
        "expiration_date": f.readonly(),
        "features": f.readonly(),
        "product_id": f.readonly(),
        **{name: f.readonly("integer", 0) for name in _RO_COUNTS},
    }
    return [
        ResourceSpec(
            "licence",
            flds,
            list_methods=("GET", "POST"),
            detail_methods=("GET", "DELETE"),
            key_field="fulfillment_id",
            filtering={"entitlement_id": ALL, "fulfillment_id": ALL, "status": ALL},
            ordering=("start_date",),
            behaviour=LicenceBehaviour(),
        )
    ]
