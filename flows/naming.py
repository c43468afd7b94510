"""Meaningful names for top-level flow runs: `<site>-<mode>-<UTC time>` instead of "humorous-cuckoo"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from prefect.runtime import flow_run

from securemode.fallback_site import is_fallback_path


def site_name_of(site_path: str) -> str:
    """The site's `name` from its file, or the file's stem when it cannot be read (naming never fails a run)."""
    try:
        document = yaml.safe_load(Path(site_path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        document = None
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else Path(site_path).stem


def run_name(site_path: str, mode: str, at: datetime | None = None) -> str:
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{site_name_of(site_path)}-{mode}-{stamp}"


def pipeline_run_name() -> str:
    """`flow_run_name` of the pipeline flow (Prefect calls it with the run's parameters in context)."""
    parameters = flow_run.parameters
    return run_name(str(parameters.get("site_path", "site")), str(parameters.get("mode", "run")))


def reverify_run_name() -> str:
    return run_name(str(flow_run.parameters.get("site_path", "site")), "reverify")


def contingency_refresh_run_name() -> str:
    return run_name(str(flow_run.parameters.get("site_path", "site")), "contingency-refresh")


def stage_run_name(stage: str) -> str:
    """A stage's run: its name, marked when it builds the contingency deployment rather than the primary."""
    fallback = is_fallback_path(str(flow_run.parameters.get("site_path", "")))
    return f"{stage} (contingency)" if fallback else stage


def failover_run_name() -> str:
    return run_name(str(flow_run.parameters.get("site_path", "site")), "failover")


def rebuild_run_name() -> str:
    return run_name(str(flow_run.parameters.get("site_path", "site")), "rebuild")
