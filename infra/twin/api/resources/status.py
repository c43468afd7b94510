"""Status API: read-only views computed from the configuration plus what node twins report.

A conferencing node appears in status once `status_report_delay_s` has passed since it was created
(the docs say about 5 minutes; compressed in the lab); node processes may override its fields.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api.spec import ALL, Ctx, ResourceSpec
from securemode.infra.twin.config import TwinConfig

GET = ("GET",)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def node_reports(ctx: Ctx) -> dict[str, dict[str, Any]]:
    return ctx.store.get_kv("node_status") or {}


def worker_status(ctx: Ctx) -> list[dict[str, Any]]:
    reports = node_reports(ctx)
    now = time.time()
    out = []
    for node in ctx.store.all("worker_vm"):
        created = node.get("_created", 0.0)
        if now - created < ctx.config.status_report_delay_s:
            continue
        loc = ctx.store.get("system_location", node["system_location"]) if node.get("system_location") else None
        row: dict[str, Any] = {
            "id": node["id"],
            "configuration_id": node["id"],
            "name": node["name"],
            "node_type": node.get("node_type", "CONFERENCING"),
            "system_location": loc["name"] if loc else "",
            "deploy_status": "DEPLOYED",
            "sync_status": "SYNCED",
            "upgrade_status": "IDLE",
            "version": ctx.config.software_version,
            "boot_time": _iso(created),
            "last_attempted_contact": _iso(now),
            "last_updated": _iso(now),
            "maintenance_mode": node.get("maintenance_mode", False),
            "maintenance_mode_reason": node.get("maintenance_mode_reason", ""),
            "cpu_count": node.get("vm_cpu_count", 4),
            "total_ram": node.get("vm_system_memory", 4096) * 1024,
            "hypervisor": "VMware",
            "media_load": 0,
        }
        report = reports.get(node["name"])
        if report is None and ctx.config.status_from_node_reports:  # no agent ever registered: never contacted
            row.update(deploy_status="NOT_DEPLOYED", sync_status="UNKNOWN", boot_time=None,
                       last_attempted_contact=None, last_updated=None)
        row.update(report or {})
        out.append(row)
    return out


def management_status(ctx: Ctx) -> list[dict[str, Any]]:
    now = _iso(time.time())
    return [
        {
            "id": m["id"],
            "configuration_id": m["id"],
            "name": m["name"],
            "primary": m.get("primary", True),
            "sync_status": "SYNCED",
            "upgrade_status": "IDLE",
            "version": ctx.config.software_version,
            "last_attempted_contact": now,
            "last_updated": now,
        }
        for m in ctx.store.all("management_vm")
    ]


def alarms(ctx: Ctx) -> list[dict[str, Any]]:
    return list(ctx.store.get_kv("alarms") or [])


def licensing(ctx: Ctx) -> list[dict[str, Any]]:
    licences = [lic for lic in ctx.store.all("licence") if lic.get("status") == "ACTIVATED"]
    ports = sum(int(lic.get("concurrent", 0)) for lic in licences)
    return [
        {
            "id": 1,
            "port_count": 0,
            "port_total": ports,
            "audio_count": 0,
            "audio_total": 0,
            "system_count": 0,
            "system_total": 0,
            "vmr_count": 0,
            "vmr_total": 0,
        }
    ]


def _ro(names: tuple[str, ...], kind: str = "string") -> dict[str, f.Field]:
    return {n: f.readonly(kind) for n in names}


def specs(config: TwinConfig) -> list[ResourceSpec]:
    return [
        ResourceSpec(
            "worker_vm",
            {
                **_ro(
                    (
                        "name",
                        "node_type",
                        "system_location",
                        "deploy_status",
                        "sync_status",
                        "upgrade_status",
                        "version",
                        "boot_time",
                        "last_attempted_contact",
                        "last_updated",
                        "hypervisor",
                        "maintenance_mode_reason",
                    )
                ),
                **_ro(("configuration_id", "cpu_count", "total_ram", "media_load"), "integer"),
                "maintenance_mode": f.readonly("boolean", False),
            },
            api="status",
            list_methods=GET,
            detail_methods=GET,
            filtering={"name": ALL, "system_location": ALL, "sync_status": ALL},
            ordering=("name",),
            compute=worker_status,
        ),
        ResourceSpec(
            "management_vm",
            {
                **_ro(("name", "sync_status", "upgrade_status", "version", "last_attempted_contact", "last_updated")),
                "configuration_id": f.readonly("integer"),
                "primary": f.readonly("boolean", True),
            },
            api="status",
            list_methods=GET,
            detail_methods=GET,
            compute=management_status,
        ),
        ResourceSpec(
            "alarm",
            {
                **_ro(("identifier", "name", "level", "details", "instance", "node", "time_raised")),
                "acknowledged": f.readonly("boolean", False),
            },
            api="status",
            list_methods=GET,
            detail_methods=GET,
            filtering={"name": ALL, "level": ALL, "node": ALL},
            ordering=("time_raised", "level"),
            compute=alarms,
        ),
        ResourceSpec(
            "licensing",
            _ro(
                (
                    "port_count",
                    "port_total",
                    "audio_count",
                    "audio_total",
                    "system_count",
                    "system_total",
                    "vmr_count",
                    "vmr_total",
                ),
                "integer",
            ),
            api="status",
            list_methods=GET,
            detail_methods=GET,
            compute=licensing,
        ),
    ]
