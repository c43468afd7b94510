"""A site document with a contingency section in force, whatever the example file ships (tests that need a
fallback say so instead of relying on the example)."""

from __future__ import annotations

from typing import Any


def with_fallback(document: dict[str, Any]) -> dict[str, Any]:
    """One fallback node per primary node, on documentation addresses."""
    document["contingency"] = {
        "management_node": {"name": "mgr-c", "hostname": "mgr-c", "address": "192.0.2.200"},
        "conferencing_nodes": [
            {"name": f"{n['name']}-c", "hostname": f"{n['hostname']}-c", "address": f"192.0.2.{201 + i}"}
            for i, n in enumerate(document["conferencing_nodes"])
        ],
        "local_admin_password": "env:SM_CONTINGENCY_ADMIN_PASSWORD",
    }
    return document
